"""Admin Credentials: write-only secrets, validation without half-saves, audit entries with field names."""

from __future__ import annotations

import pytest
import trustme
from django.db import connection as db_connection
from django.urls import reverse

from connections.models import EntraConnection, SalesforceConnection
from console.models import AuditActivity, AuditEntry
from tests.conftest import current_version

from .conftest import CLIENT_ID, KNOWN_SECRETS, SP_ID, TENANT_ID

SF_DEFAULTS = {
    "salesforce-auth_method": "password",
    "salesforce-login_url": "https://test.salesforce.com",
    "salesforce-api_version": "59.0",
    "salesforce-admin_username": "admin@acme.com.uat",
    "salesforce-consumer_key": "",
    "salesforce-ca_bundle": "",
}
ENTRA_DEFAULTS = {
    "entra-tenant_id": TENANT_ID,
    "entra-client_id": CLIENT_ID,
    "entra-service_principal_id": SP_ID,
    "entra-authority_host": "https://login.microsoftonline.com",
    "entra-graph_url": "https://graph.microsoft.com/v1.0",
    "entra-ca_bundle": "",
}


@pytest.fixture
def automatic_application(application):
    application.provisioning_mode = "automatic"
    application.save()
    return application


def post_salesforce(client, application, **changes):
    version = current_version(SalesforceConnection.objects.get(application=application))
    data = {**SF_DEFAULTS, "salesforce-edit_version": version, **{f"salesforce-{k}": v for k, v in changes.items()}}
    return client.post(reverse("save_salesforce_credentials", args=[application.slug]), data)


def post_entra(client, application, **changes):
    version = current_version(EntraConnection.objects.get(application=application))
    data = {**ENTRA_DEFAULTS, "entra-edit_version": version, **{f"entra-{k}": v for k, v in changes.items()}}
    return client.post(reverse("save_entra_credentials", args=[application.slug]), data)


def raw_column(table, column, pk):
    with db_connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - names are constants
        return cursor.fetchone()[0]


def test_saving_credentials_encrypts_secrets_and_audits_field_names(admin_client, automatic_application):
    response = post_salesforce(
        admin_client, automatic_application, admin_password="P@ss word 1", security_token="TOKEN123"
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#salesforce")
    sf = SalesforceConnection.objects.get(application=automatic_application)
    assert sf.admin_username == "admin@acme.com.uat"
    assert sf.secret("admin_password") == "P@ss word 1"  # not stripped: spaces can be part of a password
    assert sf.secret("security_token") == "TOKEN123"
    assert sf.secrets_changed_at is not None
    assert "P@ss" not in raw_column("connections_salesforceconnection", "admin_password", sf.pk)
    entry = AuditEntry.objects.get(activity=AuditActivity.UPDATE_SETTINGS)
    assert entry.actor_name == "alice.admin"
    assert entry.application == automatic_application
    assert entry.changed_fields == ["admin_password", "admin_username", "security_token"]


def test_blank_secret_keeps_the_stored_value(admin_client, configured_application):
    sf = configured_application.salesforce
    changed_at = sf.secrets_changed_at
    response = post_salesforce(admin_client, configured_application, consumer_key=sf.consumer_key, api_version="60.0")
    assert response.status_code == 302
    sf.refresh_from_db()
    assert sf.api_version == "60.0"
    assert sf.secret("admin_password") == KNOWN_SECRETS["admin_password"]
    assert sf.secret("security_token") == KNOWN_SECRETS["security_token"]
    assert sf.secrets_changed_at == changed_at
    assert AuditEntry.objects.get(activity=AuditActivity.UPDATE_SETTINGS).changed_fields == ["api_version"]


def test_clear_removes_a_secret(admin_client, configured_application):
    post_salesforce(admin_client, configured_application, consumer_key="3MVG9consumerkey", clear_security_token="on")
    sf = SalesforceConnection.objects.get(pk=configured_application.salesforce.pk)
    assert not sf.has_secret("security_token")
    assert sf.secret("admin_password") == KNOWN_SECRETS["admin_password"]
    assert AuditEntry.objects.get(activity=AuditActivity.UPDATE_SETTINGS).changed_fields == ["security_token"]


def test_new_value_and_clear_together_is_an_error(admin_client, configured_application):
    response = post_salesforce(
        admin_client,
        configured_application,
        consumer_key="3MVG9consumerkey",
        security_token="x",
        clear_security_token="on",
    )
    assert response.status_code == 400
    assert "Either enter a new value or clear it" in response.content.decode()


def test_page_shows_set_and_not_set_but_never_values(admin_client, configured_application):
    sf = configured_application.salesforce
    sf.set_secret("consumer_secret", "")
    sf.save()
    response = admin_client.get(reverse("provisioning", args=[configured_application.slug]))
    content = response.content.decode()
    rows = {row["field"].name: row["state"] for row in response.context["forms"]["salesforce"].secret_rows()}
    assert rows == {"admin_password": "set", "security_token": "set", "consumer_secret": "not_set"}
    assert "Secrets last changed" in content
    assert 'name="salesforce-admin_password"' in content
    assert 'type="password"' in content
    for value in KNOWN_SECRETS.values():
        assert value not in content


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"login_url": "http://test.salesforce.com"}, "login_url", "https://"),
        ({"login_url": "test.salesforce.com"}, "login_url", "https://"),
        ({"admin_username": "not an email"}, "admin_username", "looks like an email address"),
        ({"admin_username": "a" * 81 + "@x.com"}, "admin_username", "at most 80 characters"),
        ({"api_version": "v59"}, "api_version", "59.0"),
        ({"api_version": "30.0"}, "api_version", "retired API versions below 31.0"),
        ({"api_version": "65.0"}, "api_version", "(SOAP login) ends at API version 64.0"),
        ({"auth_method": "client_credentials"}, "consumer_key", "consumer key"),
        ({"auth_method": "kerberos"}, "auth_method", "Select a valid choice"),
        ({"admin_password": "x" * 1001}, "admin_password", "at most 1000 characters"),
        ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle", "No readable file"),
        ({"ca_bundle": __file__}, "ca_bundle", "holds no PEM certificate"),
    ],
)
def test_invalid_salesforce_input_saves_nothing(admin_client, configured_application, changes, field, message):
    before = SalesforceConnection.objects.get(pk=configured_application.salesforce.pk)
    response = post_salesforce(
        admin_client, configured_application, consumer_key="", security_token="NEWTOKEN", **changes
    )
    assert response.status_code == 400
    form = response.context["forms"]["salesforce"]
    assert message in " ".join(form.errors[field])
    after = SalesforceConnection.objects.get(pk=configured_application.salesforce.pk)
    assert after.secret("security_token") == KNOWN_SECRETS["security_token"]  # the valid secret was not saved either
    assert (after.login_url, after.admin_username, after.api_version) == (
        before.login_url,
        before.admin_username,
        before.api_version,
    )
    assert not AuditEntry.objects.filter(activity=AuditActivity.UPDATE_SETTINGS).exists()
    assert "NEWTOKEN" not in response.content.decode()


def test_my_domain_sandbox_login_url_and_numeric_suffix_username_are_accepted(admin_client, automatic_application):
    response = post_salesforce(
        admin_client,
        automatic_application,
        login_url="https://acme--uat.sandbox.my.salesforce.com/",
        admin_username="admin@acme.com.dev2",
    )
    assert response.status_code == 302
    sf = SalesforceConnection.objects.get(application=automatic_application)
    assert sf.login_url == "https://acme--uat.sandbox.my.salesforce.com"


def test_entra_credentials_save_and_normalise(admin_client, automatic_application, tmp_path):
    bundle = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    response = post_entra(
        admin_client,
        automatic_application,
        tenant_id=TENANT_ID.upper(),
        client_secret="s3cr3t~value",
        ca_bundle=str(bundle),
        graph_url="https://graph.microsoft.us/v1.0/",
    )
    assert response.status_code == 302
    entra = type(automatic_application.entra).objects.get(pk=automatic_application.entra.pk)
    assert entra.tenant_id == TENANT_ID
    assert entra.graph_url == "https://graph.microsoft.us/v1.0"
    assert entra.secret("client_secret") == "s3cr3t~value"
    assert entra.is_configured
    entry = AuditEntry.objects.get(activity=AuditActivity.UPDATE_SETTINGS)
    assert set(entry.changed_fields) >= {"client_secret", "tenant_id", "ca_bundle", "graph_url"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tenant_id": "contoso.onmicrosoft.com"}, "tenant_id"),
        ({"client_id": "1234"}, "client_id"),
        ({"service_principal_id": "72f988bf-86f1-41af-91ab-2d7cd011db4"}, "service_principal_id"),
        ({"authority_host": "http://login.microsoftonline.com"}, "authority_host"),
        ({"graph_url": "https://" + "g" * 300}, "graph_url"),
        ({"graph_url": "https://graph.microsoft.com"}, "graph_url"),
        ({"authority_host": f"https://login.microsoftonline.com/{TENANT_ID}/v2.0"}, "authority_host"),
    ],
)
def test_invalid_entra_input_saves_nothing(admin_client, configured_application, changes, field):
    response = post_entra(admin_client, configured_application, client_secret="NEW-SECRET", **changes)
    assert response.status_code == 400
    assert field in response.context["forms"]["entra"].errors
    entra = type(configured_application.entra).objects.get(pk=configured_application.entra.pk)
    assert entra.secret("client_secret") == KNOWN_SECRETS["client_secret"]
    assert entra.tenant_id == TENANT_ID
    assert "NEW-SECRET" not in response.content.decode()


def test_unreadable_secret_is_explained_not_a_500(admin_client, configured_application, settings):
    from cryptography.fernet import Fernet

    # The key the secrets were written with is gone from the configuration.
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    response = admin_client.get(reverse("provisioning", args=[configured_application.slug]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "no key in FIELD_ENCRYPTION_KEYS can decrypt it" in content
    rows = {row["field"].name: row["state"] for row in response.context["forms"]["entra"].secret_rows()}
    assert rows == {"client_secret": "unreadable"}

    # Entering the secret again replaces it under the current key.
    post_entra(admin_client, configured_application, client_secret="fresh-secret")
    entra = type(configured_application.entra).objects.get(pk=configured_application.entra.pk)
    assert entra.secret("client_secret") == "fresh-secret"
