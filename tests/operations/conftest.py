"""Operations tests: the session emulators back at their seed, an application pointed at them, a mailbox."""

from __future__ import annotations

import pytest

RECIPIENT = "ops@example.com"


@pytest.fixture(autouse=True)
def roles(role_groups) -> None:
    """Every test here has the roles' groups (tests/fixtures/emulators.py, with emu and configured_app)."""


@pytest.fixture
def notifying_app(configured_app, smtp_server):
    """The configured application with failure notifications on, sent to a real SMTP server on loopback."""
    job = configured_app.job
    job.notification_email = RECIPIENT
    job.notify_on_failure = True
    job.save()
    return configured_app


def sf_user(emu, upn: str):
    return emu.control.get_salesforce_user(username=f"{upn}.uat")


def plain_assigned_users(emu) -> list[dict]:
    """Assigned, enabled users with a mail and one direct role, not yet in Salesforce (no seeded awkwardness)."""
    found = []
    for user_id in emu.control.assigned_user_ids():
        user = emu.control.get_entra_user(user_id)
        roles = user["appRoleAssignments"]
        if (
            user.get("mail")
            and user.get("accountEnabled", True)
            and len(roles) == 1
            and roles[0]["principalId"] == user_id
            and sf_user(emu, user["userPrincipalName"]) is None
        ):
            found.append(user)
    return found


def free_username(emu, username: str) -> None:
    """The other org releases the username (the control API can only take one)."""
    emu.control._sf.state.taken_elsewhere.discard(username.lower())


def run(job, **kwargs):
    """Run one cycle of `job` in this process and return it, reloaded."""
    from provisioning.tasks import run_cycle

    cycle = run_cycle(job.pk, **kwargs)
    assert cycle is not None
    cycle.refresh_from_db()
    return cycle
