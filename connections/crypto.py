"""Encryption at rest of stored secrets (passwords, security tokens, client secrets).

Keys come from FIELD_ENCRYPTION_KEYS (comma-separated Fernet keys; the first encrypts, all decrypt).
The database column only ever holds a Fernet token.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class UnreadableSecret(Exception):
    """A stored secret that no configured key can decrypt (a key was removed from FIELD_ENCRYPTION_KEYS)."""


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: at least one Fernet key is needed.")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS entry {position} is not a valid Fernet key (32 url-safe base64 bytes). "
                "Generate one with `python manage.py generate_encryption_key`."
            ) from None
    return MultiFernet(fernets)


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret(
            "A stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS. "
            "Put back the key it was encrypted with, or enter the secret again."
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt a token under the first key (keeps Fernet's timestamp)."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret("A stored secret cannot be decrypted with any configured key.") from None


class SecretValue:
    """What an EncryptedTextField holds in Python: the ciphertext; `.reveal()` decrypts on demand.

    Keeping the plaintext out of the attribute means a model's repr, a template or a debug page never
    shows it by accident.
    """

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def reveal(self) -> str:
        return decrypt(self.token)

    def __bool__(self) -> bool:
        return bool(self.token)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)

    def __repr__(self) -> str:
        return "<SecretValue: set>" if self.token else "<SecretValue: not set>"

    __str__ = __repr__


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token. Assign plaintext with `set_secret()` on the model."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return SecretValue("")
        return SecretValue(value)

    def to_python(self, value):
        if isinstance(value, SecretValue):
            return value
        if value is None or value == "":
            return SecretValue("")
        return SecretValue(value)

    def get_prep_value(self, value):
        if isinstance(value, SecretValue):
            return value.token
        if value in (None, ""):
            return ""
        raise TypeError("Assign secrets with set_secret(field, plaintext); raw strings are refused.")

    def value_to_string(self, obj) -> str:
        # Exports and serialisation never carry the secret, not even encrypted.
        return ""

    def formfield(self, **kwargs):
        return None
