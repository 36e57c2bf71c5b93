"""Known secret values appear in no page, no fragment and no audit entry, whatever an administrator does."""

from __future__ import annotations

from django.urls import reverse

from console.models import AuditEntry
from tests.conftest import current_version

from .conftest import KNOWN_SECRETS
from .test_permissions import ACTIONS, ADMIN_PAGES, PAGES, url


def assert_no_secret(body: bytes, where: str) -> None:
    text = body.decode(errors="replace")
    for name, value in KNOWN_SECRETS.items():
        assert value not in text, f"{name} shown in {where}"


def test_no_page_shows_a_secret(client, admin_user, reader_user, configured_application, fake_connection_tests):
    for user in (admin_user, reader_user):
        client.force_login(user)
        for name, args in PAGES + ADMIN_PAGES:
            response = client.get(url(name, args, configured_application))
            assert response.status_code in (200, 403)
            assert_no_secret(response.content, name)


def test_no_action_response_or_audit_entry_shows_a_secret(admin_client, configured_application, fake_connection_tests):
    # Every action, once with htmx and once without, followed by the page it leads to.
    for name, args in ACTIONS:
        if name == "application_delete":
            continue
        target = url(name, args, configured_application)
        for headers in ({"HTTP_HX_REQUEST": "true"}, {}):
            response = admin_client.post(target, {}, **headers)
            assert_no_secret(response.content, name)
            if response.status_code == 302:
                assert_no_secret(admin_client.get(response["Location"]).content, f"{name} -> redirect")
    # Re-entering the same secrets (a save that changes them) logs names only.
    admin_client.post(
        reverse("save_entra_credentials", args=[configured_application.slug]),
        {
            "entra-tenant_id": configured_application.entra.tenant_id,
            "entra-client_id": configured_application.entra.client_id,
            "entra-service_principal_id": configured_application.entra.service_principal_id,
            "entra-authority_host": "https://login.microsoftonline.com",
            "entra-graph_url": "https://graph.microsoft.com/v1.0",
            "entra-client_secret": KNOWN_SECRETS["client_secret"],
            "entra-edit_version": current_version(configured_application.entra),
        },
    )
    entries = list(AuditEntry.objects.values_list("changed_fields", "detail"))
    assert (["client_secret"], "") in entries
    assert_no_secret(repr(entries).encode(), "audit entries")


def test_error_reports_of_credential_saves_hide_the_typed_secrets(admin_client, configured_application):
    """Django's DEBUG page and ADMINS mail show POST data; the typed secrets must appear there as stars."""
    from django.views.debug import SafeExceptionReporterFilter

    slug = configured_application.slug
    for view, fields in (
        ("save_salesforce_credentials", ["salesforce-admin_password", "salesforce-security_token"]),
        ("save_entra_credentials", ["entra-client_secret"]),
    ):
        data = {field: "typed-secret-value" for field in fields}
        response = admin_client.post(reverse(view, args=[slug]), {**data, "salesforce-login_url": "http://x"})
        shown = SafeExceptionReporterFilter().get_post_parameters(response.wsgi_request)
        for field in fields:
            assert shown[field] != "typed-secret-value" and set(shown[field]) == {"*"}
