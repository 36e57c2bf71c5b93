"""Signing in to the console with Microsoft Entra ID (through the Entra emulator): roles from the ID token, a
refusal page that names the role to ask for, roles that follow Entra at each sign-in, and local sign-in that an
administrator can turn off (with break-glass from the server)."""

from __future__ import annotations

import time
from io import StringIO

import jwt
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from console import entra_signin
from console.entra_signin import SignInError
from console.models import AuditEntry, EntraAccount, SignInPolicy
from console.permissions import APPLICATION_ADMINISTRATOR, REPORTS_READER, is_administrator, is_reader
from emulators.entra.signin import SigningKey
from tests.conftest import PASSWORD as LOCAL_PASSWORD
from tests.signin.helpers import authorize, sign_in

pytestmark = pytest.mark.django_db


def _signed_in_user(client) -> User:
    return User.objects.get(pk=client.session["_auth_user_id"])


def test_the_sign_in_page_offers_microsoft_when_configured(client, entra_signin_on):
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with Microsoft" in page and 'name="password"' in page


def test_an_administrator_signs_in_and_gets_the_administrator_role(client, entra_signin_on, people, application):
    response = sign_in(client, people["admin"]["userPrincipalName"])
    assert response.status_code == 302 and response["Location"] == reverse("applications")
    user = _signed_in_user(client)
    assert user.username == people["admin"]["userPrincipalName"]
    assert is_administrator(user) and not user.has_usable_password()
    account = EntraAccount.objects.get(user=user)
    assert account.object_id == people["admin"]["id"] and account.tenant_id == entra_signin_on["tenant_id"]
    assert client.get(reverse("provisioning", args=[application.slug])).status_code == 200


def test_a_reader_signs_in_read_only(client, entra_signin_on, people, application):
    assert sign_in(client, people["reader"]["userPrincipalName"]).status_code == 302
    user = _signed_in_user(client)
    assert is_reader(user) and not is_administrator(user)
    assert client.post(reverse("overview_action", args=[application.slug, "start"])).status_code == 403


def test_a_person_without_a_role_is_refused_with_the_role_to_ask_for(client, entra_signin_on, people):
    response = sign_in(client, people["nobody"]["userPrincipalName"])
    assert response.status_code == 403
    page = response.content.decode()
    assert "You have no role in this console" in page
    assert "ApplicationAdministrator" in page and "ReportsReader" in page
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(username=people["nobody"]["userPrincipalName"]).exists()


def test_roles_follow_entra_at_every_sign_in(client, emu, entra_signin_on, people):
    upn = people["admin"]["userPrincipalName"]
    sign_in(client, upn)
    user = _signed_in_user(client)
    emu.control.unassign_signin_role(upn, "ApplicationAdministrator")
    emu.control.assign_signin_role(upn, "ReportsReader")
    client.logout()
    sign_in(client, upn)
    assert set(user.groups.values_list("name", flat=True)) == {REPORTS_READER}
    emu.control.unassign_signin_role(upn)
    client.logout()
    assert sign_in(client, upn).status_code == 403
    assert not user.groups.exists()  # refused: the account keeps no role


def test_a_renamed_person_stays_the_same_console_user(client, emu, entra_signin_on, people):
    sign_in(client, people["admin"]["userPrincipalName"])
    first = _signed_in_user(client)
    domain = emu.info["entra"]["tenant_domain"]
    emu.control.update_entra_user(people["admin"]["id"], userPrincipalName=f"ines.renamed@{domain}")
    client.logout()
    sign_in(client, f"ines.renamed@{domain}")
    assert _signed_in_user(client).pk == first.pk


def test_a_local_account_of_the_same_name_is_not_taken_over(client, entra_signin_on, people):
    upn = people["admin"]["userPrincipalName"]
    local = User.objects.create_user(upn, password=LOCAL_PASSWORD)
    sign_in(client, upn)
    user = _signed_in_user(client)
    assert user.pk != local.pk and user.username.startswith(f"{upn}#")


def test_roles_from_security_groups(client, emu, settings, entra_signin_on, people):
    user = emu.control.create_signin_user(f"gus@{emu.info['entra']['tenant_domain']}", "Entra-pass-7c41")
    group = emu.control.create_group("Provisioning admins", [user["id"]])
    settings.ENTRA_SIGNIN = {**entra_signin_on, "administrator_groups": [group["id"].upper()]}
    entra_signin.forget_cached_clients()
    assert sign_in(client, user["userPrincipalName"]).status_code == 302
    assert is_administrator(_signed_in_user(client))


def test_an_answer_to_another_sign_in_is_refused(client, entra_signin_on, people):
    start = client.get("/login/entra/")
    answer = authorize(start["Location"], people["admin"]["userPrincipalName"])
    location = answer.headers["Location"]
    forged = location.replace("state=", "state=x")
    response = client.get("/login/entra/callback/" + forged.split("/login/entra/callback/")[1])
    assert response.status_code == 400 and "does not belong to this sign-in" in response.content.decode()
    replay = client.get("/login/entra/callback/" + location.split("/login/entra/callback/")[1])
    assert replay.status_code == 400 and "_auth_user_id" not in client.session


def test_an_error_from_entra_is_shown_on_the_sign_in_page(client, entra_signin_on):
    client.get("/login/entra/")
    response = client.get("/login/entra/callback/?error=access_denied&error_description=AADSTS65004%3A+declined")
    assert response.status_code == 400 and "AADSTS65004: declined" in response.content.decode()


def _claims(cfg, **overrides):
    now = int(time.time())
    oid = "0b0b0b0b-0000-0000-0000-000000000001"
    claims = {"aud": cfg.client_id, "iss": f"{cfg.authority}/v2.0", "iat": now, "nbf": now, "exp": now + 3600,
              "oid": oid, "tid": cfg.tenant_id, "nonce": "n", "ver": "2.0"}  # fmt: skip
    claims.update(overrides)
    return claims


def test_id_tokens_are_checked_for_signature_audience_issuer_lifetime_and_nonce(emu, entra_signin_on):
    cfg = entra_signin.config()
    tenant_key = emu.entra_app.signin.key
    assert entra_signin.validate_id_token(cfg, tenant_key.sign(_claims(cfg)), "n")["oid"]
    foreign = SigningKey()
    foreign.kid = tenant_key.kid  # same kid, another key: the signature gives it away
    cases = {
        "signature": foreign.sign(_claims(cfg)),
        "audience": tenant_key.sign(_claims(cfg, aud="another-app")),
        "issuer": tenant_key.sign(_claims(cfg, iss="https://login.example/evil/v2.0")),
        "expired": tenant_key.sign(_claims(cfg, exp=int(time.time()) - 3600)),
        "nonce": tenant_key.sign(_claims(cfg, nonce="other")),
        "alg none": jwt.encode(_claims(cfg), key=None, algorithm="none"),
    }
    for case, token in cases.items():
        with pytest.raises(SignInError):
            entra_signin.validate_id_token(cfg, token, "n")
            pytest.fail(f"{case} accepted")


def test_local_sign_in_can_be_turned_off_only_with_entra_configured(admin_client, settings):
    settings.ENTRA_SIGNIN = {}
    response = admin_client.post(reverse("save_signin_settings"), {})
    assert response.status_code == 400 and "nobody able to sign in" in response.content.decode()
    assert SignInPolicy.current().local_sign_in


def test_with_local_sign_in_off_passwords_are_refused(client, admin_user, entra_signin_on):
    client.force_login(admin_user)
    version = SignInPolicy.current().edit_version
    assert client.post(reverse("save_signin_settings"), {"edit_version": version}).status_code == 302
    assert not SignInPolicy.current().local_sign_in
    assert AuditEntry.objects.filter(activity="Update sign-in settings", actor=admin_user).exists()
    client.logout()
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with Microsoft" in page and 'name="password"' not in page
    refused = client.post(reverse("login"), {"username": admin_user.username, "password": LOCAL_PASSWORD})
    assert refused.status_code == 403 and "_auth_user_id" not in client.session
    # The admin site's own sign-in goes through the same backend.
    admin_user.is_staff = True
    admin_user.save()
    client.post("/admin/login/", {"username": admin_user.username, "password": LOCAL_PASSWORD})
    assert "_auth_user_id" not in client.session

    call_command("local_signin", "on")  # break-glass, from the server
    assert (
        client.post(reverse("login"), {"username": admin_user.username, "password": LOCAL_PASSWORD}).status_code == 302
    )


def test_readers_see_the_sign_in_settings_but_cannot_change_them(reader_client, entra_signin_on):
    page = reader_client.get(reverse("signin_settings"))
    assert page.status_code == 200 and "disabled" in page.content.decode()
    assert reader_client.post(reverse("save_signin_settings"), {}).status_code == 403
    assert SignInPolicy.current().local_sign_in


def test_the_settings_page_shows_no_client_secret(admin_client, entra_signin_on):
    page = admin_client.get(reverse("signin_settings")).content.decode()
    assert entra_signin_on["client_id"] in page and entra_signin_on["client_secret"] not in page
    assert APPLICATION_ADMINISTRATOR in page


def test_no_secret_code_or_token_reaches_a_page_or_the_log(client, emu, entra_signin_on, people, caplog, settings):
    """The client secret, the authorization code and the tokens stay between the console and Entra."""
    settings.METRICS_TOKEN = "metrics-token-never-shown-1"
    caplog.set_level("DEBUG")
    seen: list[str] = []
    original = entra_signin.validate_id_token

    def remember(cfg, token, expected_nonce):
        seen.append(token)
        return original(cfg, token, expected_nonce)

    entra_signin.validate_id_token, restore = remember, original
    try:
        pages = []
        for person in ("admin", "nobody"):
            start = client.get("/login/entra/")
            answer = authorize(start["Location"], people[person]["userPrincipalName"])
            callback = answer.headers["Location"].split("/login/entra/callback/")[1]
            seen.append(callback.split("code=")[1].split("&")[0])
            response = client.get("/login/entra/callback/" + callback)
            pages.append(response.content.decode())
            if response.status_code == 302:
                pages.append(client.get(response["Location"]).content.decode())
                pages.append(client.get(reverse("signin_settings")).content.decode())
            client.logout()
        pages.append(client.get("/healthz").content.decode())
        pages.append(client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-never-shown-1").content.decode())
    finally:
        entra_signin.validate_id_token = restore
    secrets_seen = [entra_signin_on["client_secret"], settings.METRICS_TOKEN, *seen]
    assert len(seen) == 4  # two codes and two ID tokens (the refused person's token is checked too)
    for secret in secrets_seen:
        for page in pages:
            assert secret not in page
        assert secret not in caplog.text


def test_the_break_glass_command_refuses_an_older_sign_in_page(admin_client, entra_signin_on):
    """The page says local sign-in is off; meanwhile someone turns it on with the command. Saving the page (local
    sign-in off) from before must not undo that unseen."""
    policy = SignInPolicy.current()
    policy.local_sign_in = False
    policy.save()
    seen = policy.edit_version
    call_command("local_signin", "on", stdout=StringIO())
    refused = admin_client.post(reverse("save_signin_settings"), {"edit_version": seen})
    html = refused.content.decode()
    assert refused.status_code == 409 and "<strong>manage.py local_signin</strong> saved at" in html
    assert SignInPolicy.current().local_sign_in
