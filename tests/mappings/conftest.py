"""Mapping tests against the HTTPS emulators: the session emulators back at their seed, and an application whose
connections point at them."""

from __future__ import annotations

import pytest

from provisioning.applications import point_at_emulators


@pytest.fixture
def emu(emulator_state_reset):
    return emulator_state_reset


@pytest.fixture
def live_app(application, emu):
    """The application with both connections pointed at the emulators, as an administrator would fill them."""
    point_at_emulators(application, emu.info)
    return application
