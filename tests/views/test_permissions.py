"""Every view for anonymous users, readers, administrators and users without a role."""

from __future__ import annotations

import pytest
from django.urls import reverse

# URL name, needs the application slug (plus extra args)
PAGES = [
    ("applications", ()),
    ("application_overview", ("slug",)),
    ("provisioning", ("slug",)),
    ("users_and_groups", ("slug",)),
    ("provision_on_demand", ("slug",)),
    ("provisioning_logs", ("slug",)),
    ("audit_logs", ("slug",)),
]
ADMIN_PAGES = [("application_create", ()), ("application_delete", ("slug",))]
ACTIONS = [
    ("application_create", ()),
    ("application_delete", ("slug",)),
    ("save_mode", ("slug",)),
    ("save_salesforce_credentials", ("slug",)),
    ("save_entra_credentials", ("slug",)),
    ("save_settings", ("slug",)),
    ("save_status", ("slug",)),
    ("test_connection", ("slug", "salesforce")),
    ("test_connection", ("slug", "entra")),
    ("send_test_email", ("slug",)),
]


def url(name, args, application):
    return reverse(name, args=[application.slug if a == "slug" else a for a in args])


@pytest.mark.parametrize(("name", "args"), PAGES + ADMIN_PAGES + ACTIONS)
def test_anonymous_is_sent_to_sign_in(client, application, name, args):
    target = url(name, args, application)
    for response in (client.get(target), client.post(target)):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_reader_and_administrator_see_every_page(client, reader_user, admin_user, application, name, args):
    for user in (reader_user, admin_user):
        client.force_login(user)
        response = client.get(url(name, args, application))
        assert response.status_code == 200, (user, name)
        assert b"<title>" in response.content


@pytest.mark.parametrize(("name", "args"), PAGES + ADMIN_PAGES)
def test_user_without_role_is_refused(client, roleless_user, application, name, args):
    client.force_login(roleless_user)
    response = client.get(url(name, args, application))
    assert response.status_code == 403
    assert b"Reports Reader" in response.content


@pytest.mark.parametrize(("name", "args"), ADMIN_PAGES)
def test_reader_cannot_open_administrator_pages(reader_client, application, name, args):
    assert reader_client.get(url(name, args, application)).status_code == 403


@pytest.mark.parametrize(("name", "args"), ADMIN_PAGES)
def test_administrator_opens_administrator_pages(admin_client, application, name, args):
    assert admin_client.get(url(name, args, application)).status_code == 200


@pytest.mark.parametrize(("name", "args"), ACTIONS)
def test_reader_cannot_post_anything(reader_client, configured_application, fake_connection_tests, name, args):
    before = configured_application.salesforce.last_test_at
    response = reader_client.post(url(name, args, configured_application), {"status-enabled": "on"})
    assert response.status_code == 403
    configured_application.refresh_from_db()
    assert configured_application.job.enabled is False
    assert configured_application.salesforce.last_test_at == before
    assert fake_connection_tests["calls"] == []


@pytest.mark.parametrize(("name", "args"), ACTIONS)
def test_user_without_role_cannot_post(client, roleless_user, application, name, args):
    client.force_login(roleless_user)
    assert client.post(url(name, args, application)).status_code == 403


def test_reader_sees_provisioning_page_read_only(reader_client, configured_application):
    response = reader_client.get(reverse("provisioning", args=[configured_application.slug]))
    content = response.content.decode()
    assert "Read only" in content
    assert "Test Connection</button>" not in content
    assert "Send test email" not in content
    assert '<button type="submit" class="primary">' not in content
    # Every form control is disabled.
    form = response.context["forms"]["salesforce"]
    assert all(field.disabled for field in form.fields.values())


def test_administrator_sees_buttons(admin_client, configured_application):
    content = admin_client.get(reverse("provisioning", args=[configured_application.slug])).content.decode()
    assert "Test Connection</button>" in content
    assert "Send test email" in content


def test_unknown_application_is_404(admin_client, db):
    assert admin_client.get(reverse("provisioning", args=["nope"])).status_code == 404


def test_start_page_leads_to_applications(admin_client):
    response = admin_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("applications")
