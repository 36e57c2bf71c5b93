"""The seeded tenant has the awkward cases, is deterministic, and the server counts correctly under concurrency."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from emulators.entra.state import DEFAULT_ACCESS
from emulators.seed import build_entra, build_salesforce
from tests.emulators.helpers import graph_session

pytestmark = pytest.mark.usefixtures("emulator_state_reset")


def test_seed_is_deterministic_and_has_the_awkward_cases():
    first, second = build_entra(60), build_entra(60)
    assert [u["userPrincipalName"] for u in first.users.values()] == [
        u["userPrincipalName"] for u in second.users.values()
    ]
    users = list(first.users.values())
    assert any("'" in u["surname"] for u in users) and any(not u["displayName"].isascii() for u in users)
    assert all(u["userPrincipalName"].isascii() for u in users)
    assert any(u["mail"] is None for u in users) and any(not u["accountEnabled"] for u in users)
    assert first.deleted_users
    roles = {}
    for a in first.assignments.values():
        roles.setdefault(a["principalId"], []).append(a["appRoleId"])
    assert any(len(r) == 2 for r in roles.values()) and any(DEFAULT_ACCESS in r for r in roles.values())
    groups = {g["displayName"]: g for g in first.groups.values()}
    assert groups["Sales Interns"]["id"] in groups["Sales Team"]["members"]
    assert groups["Sales Team"]["id"] in roles and groups["Sales Interns"]["id"] not in roles
    org = build_salesforce(first)
    assert len(org.users) > 1 and org.taken_elsewhere


def test_concurrent_clients_are_all_served_and_counted(emulators):
    url = emulators.info["entra"]["graph_url"] + "/users"
    sessions = [graph_session(emulators) for _ in range(6)]
    emulators.control.reset_counters()

    def hammer(session):
        return [session.get(url, params={"$top": "5"}).status_code for _ in range(40)]

    with ThreadPoolExecutor(6) as pool:
        statuses = [s for batch in pool.map(hammer, sessions) for s in batch]
    assert statuses == [200] * 240
    assert emulators.control.counters()["entra"] == {"GET /v1.0/users": 240}
