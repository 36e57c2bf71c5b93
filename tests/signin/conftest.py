"""Sign-in tests: the console configured to sign people in through the session's Entra emulator."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from console import entra_signin
from console.permissions import ROLES
from tests.signin.helpers import CALLBACK, PASSWORD


@pytest.fixture
def emu(emulator_state_reset):
    return emulator_state_reset


@pytest.fixture
def entra_signin_on(settings, emu, db):
    """ENTRA_SIGNIN_* pointing at the emulator's sign-in app registration, with the test client's callback."""
    info = emu.info["signin"]
    settings.ENTRA_SIGNIN = {
        "tenant_id": info["tenant_id"],
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "authority_host": info["authority_host"],
        "ca_bundle": emu.info["ca_bundle"],
        "administrator_roles": ["ApplicationAdministrator"],
        "reader_roles": ["ReportsReader"],
        "administrator_groups": [],
        "reader_groups": [],
    }
    emu.control.register_redirect_uri(CALLBACK)
    for role in ROLES:  # transactional tests flush the groups the migrations created
        Group.objects.get_or_create(name=role)
    entra_signin.forget_cached_clients()
    yield settings.ENTRA_SIGNIN
    entra_signin.forget_cached_clients()


@pytest.fixture
def people(emu):
    """Three people of the tenant who can sign in: an administrator, a reader and one without a console role."""
    domain = emu.info["entra"]["tenant_domain"]
    control = emu.control
    return {
        "admin": control.create_signin_user(f"ines.admin@{domain}", PASSWORD, roles=["ApplicationAdministrator"]),
        "reader": control.create_signin_user(f"rui.reader@{domain}", PASSWORD, roles=["ReportsReader"]),
        "nobody": control.create_signin_user(f"nuno.norole@{domain}", PASSWORD),
    }
