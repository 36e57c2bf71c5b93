"""Access tests: the engine tests' emulators and application (reset before each test)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from console.permissions import APPLICATION_ADMINISTRATOR, REPORTS_READER
from tests.engine.conftest import configured_app, emu  # noqa: F401 - shared fixtures


@pytest.fixture
def role_groups(transactional_db):
    """Transactional tests flush the roles' groups that a data migration created: put them back."""
    for name in (APPLICATION_ADMINISTRATOR, REPORTS_READER):
        Group.objects.get_or_create(name=name)
