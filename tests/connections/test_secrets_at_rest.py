"""Secrets at rest: the raw column holds only ciphertext; keys rotate; a lost key is reported clearly."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from connections.crypto import UnreadableSecret
from connections.models import EntraConnection, SalesforceConnection


def raw_column(model, field: str, pk: int) -> str:
    table = model._meta.db_table
    column = model._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def stored(application):
    sf = application.salesforce
    sf.set_secret("admin_password", "Plain-Password-1")
    sf.set_secret("security_token", "PlainToken22")
    sf.save()
    entra = application.entra
    entra.set_secret("client_secret", "plain~client~secret")
    entra.save()
    return sf, entra


def test_raw_columns_never_hold_the_plaintext(stored):
    sf, entra = stored
    for model, field, plain, pk in [
        (SalesforceConnection, "admin_password", "Plain-Password-1", sf.pk),
        (SalesforceConnection, "security_token", "PlainToken22", sf.pk),
        (EntraConnection, "client_secret", "plain~client~secret", entra.pk),
    ]:
        raw = raw_column(model, field, pk)
        assert raw.startswith("gAAAAA") and plain not in raw
    assert SalesforceConnection.objects.get(pk=sf.pk).secret("admin_password") == "Plain-Password-1"


def test_rotation_then_dropping_the_old_key_still_decrypts(stored, settings):
    sf, entra = stored
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    before = raw_column(SalesforceConnection, "admin_password", sf.pk)
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    out = StringIO()

    call_command("rotate_encryption_keys", stdout=out)

    assert "connections.SalesforceConnection.admin_password: 1 re-encrypted" in out.getvalue()
    assert "Re-encrypted 3 secrets" in out.getvalue()
    after = raw_column(SalesforceConnection, "admin_password", sf.pk)
    assert after != before
    Fernet(new_key.encode()).decrypt(after.encode())  # readable with the new key alone
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert SalesforceConnection.objects.get(pk=sf.pk).secret("security_token") == "PlainToken22"
    assert EntraConnection.objects.get(pk=entra.pk).secret("client_secret") == "plain~client~secret"


def test_unreadable_secret_aborts_rotation_and_changes_nothing(stored, settings):
    sf, entra = stored
    before = raw_column(SalesforceConnection, "admin_password", sf.pk)
    unreadable = Fernet(Fernet.generate_key()).encrypt(b"lost").decode()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE connections_entraconnection SET client_secret = %s WHERE id = %s", [unreadable, entra.pk]
        )
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEYS]

    with pytest.raises(CommandError) as caught:
        call_command("rotate_encryption_keys", stdout=StringIO())

    assert f"connections.EntraConnection.client_secret of row {entra.pk}" in str(caught.value)
    assert "Nothing was changed" in str(caught.value)
    assert raw_column(SalesforceConnection, "admin_password", sf.pk) == before


def test_reading_an_unreadable_secret_says_what_to_do(stored, settings):
    sf, _ = stored
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(UnreadableSecret, match="Put back the key"):
        SalesforceConnection.objects.get(pk=sf.pk).secret("admin_password")


def test_generate_encryption_key_prints_a_usable_key():
    out = StringIO()
    call_command("generate_encryption_key", stdout=out)
    key = out.getvalue().strip()
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
