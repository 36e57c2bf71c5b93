"""Access tests: the session emulators reset before each test, and an application pointed at them."""

from __future__ import annotations

import pytest

from provisioning.applications import point_at_emulators


@pytest.fixture
def emu(emulator_state_reset):
    return emulator_state_reset


@pytest.fixture
def configured_app(application, emu):
    point_at_emulators(application, emu.info)
    return application
