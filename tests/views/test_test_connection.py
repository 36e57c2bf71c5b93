"""Test Connection buttons: a POST that runs the real check, stores and shows the result (htmx or not)."""

from __future__ import annotations

from django.urls import reverse

from connections import connection_test
from connections.models import SalesforceConnection
from console.models import AuditActivity, AuditEntry


def button_url(application, system):
    return reverse("test_connection", args=[application.slug, system])


def test_htmx_request_gets_the_result_panel(admin_client, configured_application, fake_connection_tests):
    fake_connection_tests["outcomes"]["salesforce"] = (
        False,
        "INVALID_LOGIN: the username, password or secret token is wrong.",
    )
    response = admin_client.post(button_url(configured_application, "salesforce"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content  # a fragment for the result panel
    assert "INVALID_LOGIN: the username, password or secret token is wrong." in content
    assert "Failed" in content and "42 ms" in content
    assert "salesforce step" in content
    sf = SalesforceConnection.objects.get(pk=configured_application.salesforce.pk)
    assert sf.last_test_outcome == "failure"
    assert fake_connection_tests["calls"] == ["salesforce"]
    entry = AuditEntry.objects.get(activity=AuditActivity.TEST_CONNECTION)
    assert entry.detail == "Salesforce: failed"


def test_without_javascript_redirects_back_and_page_shows_result(
    admin_client, configured_application, fake_connection_tests
):
    response = admin_client.post(button_url(configured_application, "entra"))
    assert response.status_code == 302
    assert response["Location"] == reverse("provisioning", args=[configured_application.slug]) + "#test-entra"
    page = admin_client.get(response["Location"]).content.decode()
    assert "Read the service principal." in page
    assert "Succeeded" in page
    assert fake_connection_tests["calls"] == ["entra"]


def test_unknown_system_is_404(admin_client, configured_application, fake_connection_tests):
    assert admin_client.post(button_url(configured_application, "ldap")).status_code == 404
    assert fake_connection_tests["calls"] == []


def test_get_is_not_allowed(admin_client, configured_application):
    assert admin_client.get(button_url(configured_application, "salesforce")).status_code == 405


def test_crash_in_the_check_becomes_a_stored_failure(admin_client, configured_application, monkeypatch):
    def crash(connection, steps):
        raise RuntimeError("boom with Pw-3f9c1a7e-never-shown inside")

    monkeypatch.setitem(connection_test.CHECKS, SalesforceConnection, crash)
    response = admin_client.post(button_url(configured_application, "salesforce"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert "unexpected error (RuntimeError)" in content
    assert "never-shown" not in content
    sf = SalesforceConnection.objects.get(pk=configured_application.salesforce.pk)
    assert sf.last_test_outcome == "failure"


def test_unreadable_secret_is_reported_on_the_panel(admin_client, configured_application, settings):
    from cryptography.fernet import Fernet

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    # The real check runs: it stops at the unreadable secret before any network call.
    response = admin_client.post(button_url(configured_application, "entra"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "cannot be decrypted" in response.content.decode()


def test_missing_fields_are_named_by_the_real_check(admin_client, application):
    response = admin_client.post(button_url(application, "salesforce"), HTTP_HX_REQUEST="true")
    assert "Fill in Admin Username, Admin Password" in response.content.decode()
