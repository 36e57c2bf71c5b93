"""Print a new Fernet key for FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Print a new key for FIELD_ENCRYPTION_KEYS. To rotate: put it first in the list, deploy, run "
        "rotate_encryption_keys, then remove the old key."
    )
    requires_system_checks: list = []

    def handle(self, *args, **options) -> None:
        self.stdout.write(Fernet.generate_key().decode())
