"""The assignment reader's bulk reads against the HTTPS emulators: group members 20 groups to a Graph call (next
pages followed, a failed answer an error naming the group), users by id 15 to a request and 20 requests to a call,
or the tenant's user list when that costs fewer calls; and the pure warning rules."""

from __future__ import annotations

import pytest

from connections.clients import graph as graph_module
from connections.clients.errors import RemoteError
from connections.clients.graph import GraphClient
from mappings.directory import assignments as assignments_module
from mappings.directory import warnings
from mappings.directory.assignments import DETAILS_SELECT, AssignmentReader

pytestmark = pytest.mark.django_db


def _counters(emu) -> dict[str, int]:
    return emu.control.counters()["entra"]


def test_group_members_are_read_twenty_groups_to_a_call_with_next_pages_followed(live_app, emu, monkeypatch):
    state = emu.entra_app.state
    groups = [emu.control.create_group(f"Team {n:02}", list(state.users)[n : n + 7])["id"] for n in range(25)]
    monkeypatch.setattr(graph_module, "PAGE_SIZE", 3)  # every group spans three pages
    emu.control.reset_counters()
    read = dict(GraphClient(live_app.entra).groups_user_members(groups, list(DETAILS_SELECT)))
    assert {gid: sorted(m["id"] for m in members) for gid, members in read.items()} == {
        gid: sorted(state.transitive_members(gid)) for gid in groups
    }
    assert set(read[groups[0]][0]) >= {"id", "displayName", "userPrincipalName", "mail"}
    calls = _counters(emu)
    assert calls["POST /v1.0/$batch"] == 2  # 25 groups: 20 + 5
    assert calls["GET /v1.0/groups/{id}/members"] == 25 * 3  # the first pages inside the batches, then 2 more each


def test_a_group_that_cannot_be_read_is_an_error_never_an_empty_group(live_app, emu):
    with pytest.raises(RemoteError, match="Reading the members of group 0000-gone from Microsoft Graph failed"):
        list(GraphClient(live_app.entra).groups_user_members(["0000-gone"], ["id"]))


def test_users_by_id_fifteen_to_a_request_and_unknown_ids_left_out(live_app, emu):
    ids = list(emu.entra_app.state.users)[:35] + ["11111111-2222-3333-4444-555555555555"]
    emu.control.reset_counters()
    found = [u for page in GraphClient(live_app.entra).users_by_ids(ids, list(DETAILS_SELECT)) for u in page]
    assert sorted(u["id"] for u in found) == sorted(ids[:35])
    calls = _counters(emu)
    assert calls["POST /v1.0/$batch"] == 1 and calls["GET /v1.0/users"] == 3  # 15 + 15 + 6


def test_the_reader_lists_the_tenant_when_that_costs_fewer_calls(live_app, emu, monkeypatch):
    ids = list(emu.entra_app.state.users)[:40]
    reader = AssignmentReader(GraphClient(live_app.entra))
    emu.control.reset_counters()
    by_id = sorted(u["id"] for u in reader.users(ids))
    assert "GET /v1.0/users/$count" not in _counters(emu)  # one call by id: nothing to compare
    monkeypatch.setattr(assignments_module, "IN_LIMIT", 1)  # by id would now take 2 calls, the list takes 1
    emu.control.reset_counters()
    listed = sorted(u["id"] for u in reader.users(ids))
    calls = _counters(emu)
    assert listed == by_id == sorted(ids)
    assert calls["GET /v1.0/users/$count"] == 1 and calls["GET /v1.0/users"] == 1 and "POST /v1.0/$batch" not in calls


def test_user_warnings():
    assert warnings.user_warnings([("r1", False)]) == (("r1",), 0)
    assert warnings.user_warnings([("", False)]) == ((), 0)  # Default Access only: assigned, no role
    assert warnings.user_warnings([("r1", False), ("r2", False)]) == (("r1", "r2"), warnings.SEVERAL_ROLES.bit)
    both = warnings.SEVERAL_ROLES.bit | warnings.DIRECT_AND_GROUP.bit
    assert warnings.user_warnings([("r2", True), ("r1", False)]) == (("r1", "r2"), both)
    assert warnings.user_warnings([("r1", True), ("r1", False)]) == (("r1",), 0)  # the same role twice


def test_assignment_warnings():
    def bits(**kwargs):
        values = {"principal_type": "User", "default_access": False, "role_defined": True, "members": None}
        return warnings.assignment_warnings(**{**values, "member_bits": 0, **kwargs})

    assert bits() == 0
    assert bits(default_access=True) == warnings.DEFAULT_ACCESS.bit
    assert bits(role_defined=False) == warnings.MISSING_ROLE.bit
    assert bits(principal_type="Group", members=0) == warnings.REACHES_NOBODY.bit
    assert bits(principal_type="ServicePrincipal") == warnings.REACHES_NOBODY.bit
    assert bits(principal_type="Group", members=3, member_bits=warnings.SEVERAL_ROLES.bit) == warnings.SEVERAL_ROLES.bit
