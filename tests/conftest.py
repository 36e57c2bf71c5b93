"""The common world of the tests: users in each role and a configured application."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from hypothesis import HealthCheck, settings

from console.permissions import APPLICATION_ADMINISTRATOR, REPORTS_READER

pytest_plugins = ["tests.fixtures.smtp", "tests.fixtures.emulators", "tests.fixtures.signin"]

# The property tests check results, not speed: on a loaded machine (the suite runs beside database servers and
# browsers) generating examples can take longer than Hypothesis's default deadline and health check allow.
settings.register_profile("console", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("console")

PASSWORD = "correct-horse-battery-staple"


def _user(username: str, group: str | None) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, email=f"{username}@example.com")
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def admin_user(db) -> User:
    return _user("alice.admin", APPLICATION_ADMINISTRATOR)


@pytest.fixture
def reader_user(db) -> User:
    return _user("rob.reader", REPORTS_READER)


@pytest.fixture
def roleless_user(db) -> User:
    return _user("nora.norole", None)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def reader_client(client, reader_user):
    client.force_login(reader_user)
    return client


@pytest.fixture
def application(db):
    """A new application with its connections, default mapping (suffix "uat") and job, not yet configured."""
    from provisioning.applications import create_application

    return create_application("UAT sandbox", suffix="uat")


def current_version(instance) -> str:
    """The version a page loaded now would carry for `instance` (an edit form's hidden edit_version)."""
    return str(type(instance)._base_manager.filter(pk=instance.pk).values_list("edit_version", flat=True).get())
