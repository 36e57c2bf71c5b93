"""Sign-in page and throttling of failed sign-ins (django-axes: per account and address together, per address for
names that are no account)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, address):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_login_page_is_public_and_labelled(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "<title>Sign in" in content
    assert '<label for="id_username"' in content
    assert '<label for="id_password"' in content


def test_correct_password_signs_in(client, admin_user):
    response = sign_in(client, admin_user.username, PASSWORD, "10.0.0.1")
    assert response.status_code == 302
    assert response["Location"] == reverse("applications")


def test_wrong_password_shows_form_error(client, admin_user):
    response = sign_in(client, admin_user.username, "wrong", "10.0.0.1")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_five_wrong_passwords_lock_the_account_from_that_address(client, admin_user, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert sign_in(client, admin_user.username, "wrong", "10.0.0.1").status_code == 200
    locked = sign_in(client, admin_user.username, "wrong", "10.0.0.1")
    assert locked.status_code == 429
    assert "Try again in 15 minutes" in locked.content.decode()

    # The right password is refused while locked from that address ...
    response = sign_in(client, admin_user.username, PASSWORD, "10.0.0.1")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # ... but the owner elsewhere is not locked out by whoever guessed from 10.0.0.1.
    elsewhere = sign_in(client, admin_user.username, PASSWORD, "10.0.0.2")
    assert elsewhere.status_code == 302
    assert int(client.session["_auth_user_id"]) == admin_user.pk


def test_a_colleague_behind_the_same_address_is_not_locked_out(client, admin_user, reader_user):
    """A shared NAT or proxy: five wrong passwords for one account leave the other accounts of the office alone."""
    for _ in range(5):
        sign_in(client, admin_user.username, "wrong", "10.0.0.1")
    assert sign_in(client, admin_user.username, PASSWORD, "10.0.0.1").status_code == 429
    reader = sign_in(client, reader_user.username, PASSWORD, "10.0.0.1")
    assert reader.status_code == 302
    assert int(client.session["_auth_user_id"]) == reader_user.pk


def test_names_that_are_no_account_are_counted_per_address(client, reader_user):
    for index in range(5):
        assert sign_in(client, f"nobody{index}", "guess", "10.9.9.9").status_code in (200, 429)
    assert sign_in(client, "nobody-else", "guess", "10.9.9.9").status_code == 429
    # Another address guessing names is not affected, nor is a real account at the guessing address.
    assert sign_in(client, "nobody-else", "guess", "10.9.9.10").status_code == 200
    assert sign_in(client, reader_user.username, PASSWORD, "10.9.9.9").status_code == 302


def test_the_lockout_page_does_not_tell_whether_the_name_is_an_account(client, admin_user):
    for _ in range(5):
        sign_in(client, admin_user.username, "wrong", "10.0.0.1")
        sign_in(client, "no.such.person", "wrong", "10.0.0.2")
    known = sign_in(client, admin_user.username, "wrong", "10.0.0.1")
    unknown = sign_in(client, "no.such.person", "wrong", "10.0.0.2")
    assert known.status_code == unknown.status_code == 429
    without_tokens = [re.sub(r'"X-CSRFToken": "[^"]*"', "", r.content.decode()) for r in (known, unknown)]
    assert without_tokens[0] == without_tokens[1]
    assert admin_user.username.encode() not in known.content


def test_behind_the_proxy_addresses_come_from_x_forwarded_for(client, admin_user, settings):
    """Every request reaches the console from the proxy: one client's mistakes must not lock out the others,
    and entries a client writes in front of the proxy's own cannot get it round the limit."""
    settings.BEHIND_TLS_PROXY = True
    proxy = "10.0.0.254"
    for index in range(5):
        client.post(
            reverse("login"),
            {"username": admin_user.username, "password": "wrong"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{index}, 203.0.113.7",
        )
    attempt = {"username": admin_user.username, "password": PASSWORD}
    spoofed = client.post(
        reverse("login"), attempt, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7"
    )
    assert spoofed.status_code == 429
    colleague = client.post(reverse("login"), attempt, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert colleague.status_code == 302


def test_sign_out_is_a_post(admin_client):
    response = admin_client.post(reverse("logout"))
    assert response.status_code == 302
    assert admin_client.get(reverse("applications")).status_code == 302
