"""Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from connections.crypto import EncryptedTextField, SecretValue, UnreadableSecret, rotate


def encrypted_fields() -> list[tuple[type, str]]:
    """(model, field name) for every EncryptedTextField of every installed model."""
    return [
        (model, f.name)
        for model in apps.get_models()
        for f in model._meta.get_fields()
        if isinstance(f, EncryptedTextField)
    ]


def rotate_all() -> dict[str, int]:
    """Re-encrypt all secrets in one transaction; an unreadable one aborts it and nothing changes."""
    counts: dict[str, int] = {}
    with transaction.atomic():
        for model, name in encrypted_fields():
            label = f"{model._meta.label}.{name}"
            counts[label] = 0
            rows = model._default_manager.exclude(**{name: ""}).values_list("pk", name)
            for pk, value in rows.iterator():
                token = value.token if isinstance(value, SecretValue) else str(value or "")
                if not token:
                    continue
                try:
                    new_token = rotate(token)
                except UnreadableSecret:
                    raise UnreadableSecret(
                        f"{label} of row {pk} cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS. "
                        "Nothing was changed. Put back the key it was encrypted with, or clear and re-enter "
                        "that secret, then run the rotation again."
                    ) from None
                model._default_manager.filter(pk=pk).update(**{name: SecretValue(new_token)})
                counts[label] += 1
    return counts


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS (all or nothing)."

    def handle(self, *args, **options) -> None:
        try:
            counts = rotate_all()
        except UnreadableSecret as exc:
            raise CommandError(str(exc)) from None
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {sum(counts.values())} secrets under the first key."))
