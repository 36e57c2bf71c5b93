"""Access tests: the session emulators reset before each test, and an application pointed at them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from console.permissions import APPLICATION_ADMINISTRATOR, REPORTS_READER
from provisioning.applications import point_at_emulators


@pytest.fixture
def emu(emulator_state_reset):
    return emulator_state_reset


@pytest.fixture
def configured_app(application, emu):
    point_at_emulators(application, emu.info)
    return application


@pytest.fixture
def role_groups(transactional_db):
    """Transactional tests flush the roles' groups that a data migration created: put them back."""
    for name in (APPLICATION_ADMINISTRATOR, REPORTS_READER):
        Group.objects.get_or_create(name=name)
