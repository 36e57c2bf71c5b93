"""Sign-in page and throttling of failed sign-ins (django-axes, per account and per address)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
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


def test_five_wrong_passwords_lock_the_account(client, admin_user, reader_user, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert sign_in(client, admin_user.username, "wrong", "10.0.0.1").status_code == 200
    locked = sign_in(client, admin_user.username, "wrong", "10.0.0.1")
    assert locked.status_code == 429
    assert "Try again in 15 minutes" in locked.content.decode()

    # The right password is refused while locked, from the same and from another address.
    for address in ("10.0.0.1", "10.0.0.2"):
        response = sign_in(client, admin_user.username, PASSWORD, address)
        assert response.status_code == 429
        assert "_auth_user_id" not in client.session

    # Another account from another address is not affected.
    other = sign_in(client, reader_user.username, PASSWORD, "10.0.0.3")
    assert other.status_code == 302
    assert int(client.session["_auth_user_id"]) == reader_user.pk


def test_one_address_trying_many_accounts_is_locked(client, db):
    for index in range(5):
        User.objects.create_user(f"user{index}", password=PASSWORD)
        sign_in(client, f"user{index}", "wrong", "10.9.9.9")
    User.objects.create_user("fresh", password=PASSWORD)
    assert sign_in(client, "fresh", PASSWORD, "10.9.9.9").status_code == 429
    assert sign_in(client, "fresh", PASSWORD, "10.9.9.10").status_code == 302


def test_behind_the_proxy_addresses_come_from_x_forwarded_for(client, db, settings):
    """Every request reaches the console from the proxy: one client's mistakes must not lock out the others,
    and entries a client writes in front of the proxy's own cannot get it round the limit."""
    settings.BEHIND_TLS_PROXY = True
    proxy = "10.0.0.254"
    for index in range(5):
        User.objects.create_user(f"user{index}", password=PASSWORD)
        client.post(
            reverse("login"),
            {"username": f"user{index}", "password": "wrong"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{index}, 203.0.113.7",
        )
    User.objects.create_user("fresh", password=PASSWORD)
    attempt = {"username": "fresh", "password": PASSWORD}
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
