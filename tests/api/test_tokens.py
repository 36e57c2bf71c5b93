"""Personal API tokens: shown once, stored as a digest, expiring, revocable, scoped; the page and the command."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from api.models import ApiToken
from api.tokens import TokenRefused, authenticate, create_token, digest_of
from console.models import AuditActivity, AuditEntry
from tests.views.test_accessibility import unlabelled


def test_a_token_is_stored_only_as_its_digest_and_authenticates(admin_user):
    created = create_token(admin_user, name="export", scope="read", days=7)
    row = ApiToken.objects.values().get(pk=created.token.pk)
    assert created.raw not in repr(row)
    assert row["digest"] == digest_of(created.raw) and row["prefix"] == created.raw[:12]
    assert authenticate(created.raw).user == admin_user
    assert ApiToken.objects.get(pk=created.token.pk).last_used_at is not None
    entry = AuditEntry.objects.get(activity=AuditActivity.CREATE_API_TOKEN)
    assert created.token.prefix in entry.detail and created.raw not in entry.detail


def test_expired_revoked_and_unknown_tokens_are_refused_saying_why(admin_user, expired_token, revoked_token):
    with pytest.raises(TokenRefused, match="expired"):
        authenticate(expired_token.raw)
    with pytest.raises(TokenRefused, match="revoked"):
        authenticate(revoked_token.raw)
    with pytest.raises(TokenRefused, match="not known"):
        authenticate(revoked_token.raw[:-2] + "xx")
    with pytest.raises(TokenRefused, match="not a console API token"):
        authenticate("eyJhbGciOi.a-graph-token")


def test_only_an_administrator_holds_an_administer_token_and_a_roleless_user_none(reader_user, roleless_user):
    with pytest.raises(ValueError, match="Application Administrator"):
        create_token(reader_user, name="x", scope="administer")
    with pytest.raises(ValueError, match="Reports Reader or an Application Administrator"):
        create_token(roleless_user, name="x", scope="read")
    with pytest.raises(ValueError, match="1 to 366 days"):
        create_token(reader_user, name="x", scope="read", days=0)
    assert not ApiToken.objects.exists()


def test_the_page_shows_a_new_token_once(reader_client, reader_user):
    page = reverse("api_tokens")
    response = reader_client.post(page, {"name": "nightly", "scope": "read", "days": "30"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=reader_user)
    body = response.content.decode()
    raw = body.split('id="new-token-value"')[1].split('value="')[1].split('"')[0]
    assert digest_of(raw) == token.digest
    again = reader_client.get(page).content.decode()
    assert raw not in again and f"{token.prefix}…" in again


def test_the_page_has_a_title_and_labelled_controls_with_a_new_token_shown(admin_client, reader_token):
    response = admin_client.post(reverse("api_tokens"), {"name": "nightly", "scope": "administer", "days": "30"})
    title, missing = unlabelled(response.content.decode())
    assert title.startswith("API tokens") and missing == []
    assert reader_token.token.prefix in response.content.decode()  # an administrator sees everyone's tokens


def test_a_reader_cannot_create_an_administer_token_on_the_page(reader_client):
    response = reader_client.post(reverse("api_tokens"), {"name": "x", "scope": "administer", "days": "30"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_people_revoke_their_own_tokens_and_an_administrator_anyone_s(
    client, reader_user, admin_user, reader_token, admin_token
):
    client.force_login(reader_user)
    refused = client.post(reverse("api_token_revoke", args=[admin_token.token.pk]))
    assert refused.status_code == 403
    assert client.post(reverse("api_token_revoke", args=[reader_token.token.pk])).status_code == 302
    assert ApiToken.objects.get(pk=reader_token.token.pk).revoked_by == reader_user.username
    other = create_token(reader_user, name="second", scope="read")
    client.force_login(admin_user)
    page = client.get(reverse("api_tokens")).content.decode()
    assert "second" in page and reader_user.username in page  # an administrator sees everyone's tokens
    client.post(reverse("api_token_revoke", args=[other.token.pk]))
    assert ApiToken.objects.get(pk=other.token.pk).revoked_by == admin_user.username
    assert AuditEntry.objects.filter(activity=AuditActivity.REVOKE_API_TOKEN).count() == 2


def test_the_page_is_refused_to_anonymous_and_roleless_people(client, roleless_user):
    assert client.get(reverse("api_tokens")).status_code == 302
    client.force_login(roleless_user)
    assert client.get(reverse("api_tokens")).status_code == 403


def test_the_command_creates_lists_and_revokes(admin_user):
    out, err = io.StringIO(), io.StringIO()
    call_command("api_tokens", "create", admin_user.username, "--name", "cron", "--scope", "administer",
                 stdout=out, stderr=err)  # fmt: skip
    raw = out.getvalue().strip()
    assert authenticate(raw).scope == "administer" and raw not in err.getvalue()
    listing = io.StringIO()
    call_command("api_tokens", "list", stdout=listing)
    assert raw[:12] in listing.getvalue() and raw not in listing.getvalue()
    call_command("api_tokens", "revoke", raw[:12], stdout=io.StringIO())
    with pytest.raises(TokenRefused):
        authenticate(raw)
    with pytest.raises(CommandError, match="No console user"):
        call_command("api_tokens", "create", "nobody", "--name", "x")
