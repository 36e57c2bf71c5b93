"""Sign-in tests: the emulators back at their seed (the sign-in fixtures are in tests/fixtures/signin.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def emu(emulator_state_reset):
    return emulator_state_reset
