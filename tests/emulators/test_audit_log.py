"""The Entra emulator's directory audit log (GET /v1.0/auditLogs/directoryAudits) as Graph documents it: the Core
Directory activities of app role assignments, $filter on activityDateTime and targetResources, paging, refusal
without AuditLog.Read.All, Request_UnsupportedQuery for other filters."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.emulators.helpers import graph_session

pytestmark = pytest.mark.usefixtures("emulator_state_reset")


def _since(minutes: int = 5) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entries(session, url, params):
    body = session.get(url, params=params).json()
    found = list(body["value"])
    while "@odata.nextLink" in body:
        assert body["@odata.nextLink"].startswith("https://")
        body = session.get(body["@odata.nextLink"]).json()
        found.extend(body["value"])
    return found


def test_assignments_added_and_removed_are_listed_newest_first_naming_the_application_and_the_principal(emulators):
    session = graph_session(emulators)
    graph, sp_id = emulators.info["entra"]["graph_url"], emulators.info["entra"]["service_principal_id"]
    url = f"{graph}/auditLogs/directoryAudits"
    everyone = {"$filter": f"activityDateTime ge {_since()} and targetResources/any(t:t/id eq '{sp_id}')"}
    assert session.get(url, params=everyone).json()["value"] == []  # the seed is older than the retention
    user = emulators.control.create_entra_user(
        userPrincipalName="audited@contoso.onmicrosoft.com", displayName="Audited", mailNickname="audited"
    )
    group = emulators.control.create_group("Audited group", [user["id"]])
    emulators.control.assign(user["id"], "Standard User")
    emulators.control.assign(group["id"], "Read Only")
    emulators.control.unassign(user["id"])

    body = session.get(url, params=everyone).json()
    assert body["@odata.context"].endswith("/v1.0/$metadata#auditLogs/directoryAudits")
    activities = [(e["activityDisplayName"], e["category"], e["operationType"]) for e in body["value"]]
    assert activities == [
        ("Remove app role assignment from user", "UserManagement", "Unassign"),
        ("Add app role assignment to group", "GroupManagement", "Assign"),
        ("Add app role assignment grant to user", "UserManagement", "Assign"),
    ]
    entry = body["value"][-1]
    assert entry["loggedByService"] == "Core Directory" and entry["result"] == "success"
    assert entry["activityDateTime"].endswith("Z") and len(entry["activityDateTime"]) == 28  # seven decimals
    application, principal = entry["targetResources"]
    assert application["id"] == sp_id and application["type"] == "ServicePrincipal"
    role = application["modifiedProperties"][0]
    assert role["displayName"] == "AppRole.Id" and role["oldValue"] is None and role["newValue"].startswith('"')
    assert principal == {
        "id": user["id"], "displayName": "Audited", "type": "User",
        "userPrincipalName": "audited@contoso.onmicrosoft.com", "groupType": None, "modifiedProperties": [],
    }  # fmt: skip

    of_group = {"$filter": f"targetResources/any(x: x/id eq '{group['id']}')"}
    assert [e["activityDisplayName"] for e in session.get(url, params=of_group).json()["value"]] == [
        "Add app role assignment to group"
    ]
    later = {"$filter": f"activityDateTime ge {(datetime.now(UTC) + timedelta(minutes=1)).isoformat()[:19]}Z"}
    assert session.get(url, params=later).json()["value"] == []
    by_name = {"$filter": "activityDisplayName eq 'Remove app role assignment from user'"}
    assert len(session.get(url, params=by_name).json()["value"]) == 1


def test_audit_entries_page_with_top_and_skiptoken(emulators):
    session = graph_session(emulators)
    graph = emulators.info["entra"]["graph_url"]
    removed = sum(emulators.control.unassign(user_id) for user_id in emulators.control.assigned_user_ids()[-30:])
    params = {"$top": "7", "$filter": f"activityDateTime ge {_since()}"}
    found = _entries(session, f"{graph}/auditLogs/directoryAudits", params)
    assert removed >= 20 and len(found) == removed and len({e["id"] for e in found}) == len(found)
    too_many = session.get(f"{graph}/auditLogs/directoryAudits", params={"$top": "1000"})
    assert too_many.status_code == 400


def test_audit_log_refusals_and_unsupported_filters_use_graphs_error_shape(emulators):
    session = graph_session(emulators)
    url = f"{emulators.info['entra']['graph_url']}/auditLogs/directoryAudits"
    unsupported = session.get(url, params={"$filter": "resultReason eq 'x'"})
    assert unsupported.status_code == 400 and unsupported.json()["error"]["code"] == "Request_UnsupportedQuery"
    emulators.control.withhold_permission("AuditLog.Read.All")
    refused = session.get(url)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "Authorization_RequestDenied"
    assert "innerError" in refused.json()["error"]
    emulators.control.withhold_permission("AuditLog.Read.All", False)
    assert session.get(url).status_code == 200
    assert session.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_entries_held_back_appear_later_with_the_time_of_their_activity(emulators):
    session = graph_session(emulators)
    url = f"{emulators.info['entra']['graph_url']}/auditLogs/directoryAudits"
    emulators.control.hold_audit_log()
    before = datetime.now(UTC)
    assert emulators.control.unassign(emulators.control.assigned_user_ids()[-1]) == 1
    params = {"$filter": f"activityDateTime ge {_since()}"}
    assert session.get(url, params=params).json()["value"] == []
    emulators.control.hold_audit_log(False)
    [entry] = session.get(url, params=params).json()["value"]
    at = datetime.strptime(entry["activityDateTime"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= at <= datetime.now(UTC)
