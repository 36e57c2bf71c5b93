"""Engine tests: the session emulators reset before each test, and an application pointed at them."""

from __future__ import annotations

import pytest

from provisioning.applications import point_at_emulators


@pytest.fixture
def emu(emulator_state_reset):
    """The shared session emulators (tests/fixtures/emulators.py), back at their seed."""
    return emulator_state_reset


@pytest.fixture
def configured_app(application, emu):
    point_at_emulators(application, emu.info)
    return application
