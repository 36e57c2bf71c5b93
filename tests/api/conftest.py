"""The world of the API tests: tokens of each kind, and a client that sends one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from api.models import ApiToken
from api.tokens import create_token, revoke_token


class ApiClient:
    """Django's test client with a bearer token (or none), answering parsed JSON beside the response."""

    def __init__(self, raw: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw}"} if raw else {}

    def call(self, method: str, path: str, body=None, **headers):
        kwargs = {"headers": {**self.headers, **headers}}
        if body is not None:
            kwargs.update(data=body, content_type="application/json")
        return getattr(self.client, method.lower())(path, **kwargs)

    def get(self, path: str, **headers):
        return self.call("GET", path, **headers)

    def post(self, path: str, body=None, **headers):
        return self.call("POST", path, {} if body is None else body, **headers)

    def put(self, path: str, body=None, **headers):
        return self.call("PUT", path, body, **headers)


@pytest.fixture
def admin_token(admin_user):
    return create_token(admin_user, name="admin script", scope="administer")


@pytest.fixture
def admin_read_token(admin_user):
    return create_token(admin_user, name="admin reads", scope="read")


@pytest.fixture
def reader_token(reader_user):
    return create_token(reader_user, name="reader script", scope="read")


@pytest.fixture
def expired_token(admin_user):
    created = create_token(admin_user, name="old", scope="administer")
    ApiToken.objects.filter(pk=created.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return created


@pytest.fixture
def revoked_token(admin_user):
    created = create_token(admin_user, name="gone", scope="administer")
    revoke_token(created.token, actor=admin_user)
    return created


@pytest.fixture
def api_as():
    return lambda created: ApiClient(created.raw if created is not None else None)
