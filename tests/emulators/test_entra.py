"""Entra token endpoint through the real msal, and the Graph routes provisioning reads."""

import time

import msal
import pytest

from emulators.entra.state import DEFAULT_ACCESS
from tests.emulators.helpers import GRAPH_SCOPE, graph_session, msal_app

pytestmark = pytest.mark.usefixtures("emulator_state_reset")
SELECT = "id,userPrincipalName,mail,accountEnabled,department"


def _all_pages(session, url, params=None):
    pages = []
    body = session.get(url, params=params).json()
    pages.append(body)
    while "@odata.nextLink" in body:
        body = session.get(body["@odata.nextLink"]).json()
        pages.append(body)
    return pages


def test_msal_gets_a_token_once_and_then_uses_its_cache(emulators):
    app = msal_app(emulators)
    first = app.acquire_token_for_client(scopes=GRAPH_SCOPE)
    second = app.acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert first["expires_in"] == 3599 and first["token_source"] == "identity_provider"
    assert second["token_source"] == "cache"
    assert emulators.control.counters()["entra"]["POST /TENANT/oauth2/v2.0/token"] == 1


def test_msal_bad_secret_and_unknown_client_return_error_dicts(emulators):
    bad = msal_app(emulators, client_secret="wrong").acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert bad["error"] == "invalid_client" and bad["error_codes"] == [7000215]
    unknown = msal_app(emulators, client_id="11111111-2222-3333-4444-555555555555").acquire_token_for_client(
        scopes=GRAPH_SCOPE
    )
    assert unknown["error"] == "unauthorized_client" and unknown["error_codes"] == [700016]
    emulators.control.expire_client_secret()
    expired = msal_app(emulators).acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert expired["error_codes"] == [7000222]


def test_unknown_tenant_fails_at_construction(emulators):
    with pytest.raises(ValueError, match="tenant"):
        msal_app(emulators, tenant_id="00000000-0000-0000-0000-00000000dead")


def test_tenant_domain_works_as_authority_and_instance_discovery_answers(emulators):
    assert "access_token" in msal_app(emulators, tenant_id="contoso.onmicrosoft.com").acquire_token_for_client(
        scopes=GRAPH_SCOPE
    )
    e = emulators.info["entra"]
    app = msal.ConfidentialClientApplication(
        e["client_id"],
        client_credential=e["client_secret"],
        authority=f"{e['authority_host']}/{e['tenant_id']}",
        instance_discovery=f"{e['authority_host']}/common/discovery/instance",
        http_client=emulators.session(),
    )
    # (after a token *error* msal looks aliases up on login.microsoftonline.com itself: use instance_discovery=False)
    assert "access_token" in app.acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert emulators.control.counters()["entra"]["GET /common/discovery/instance"] == 1


def test_graph_requires_a_valid_token(emulators):
    session = emulators.session()
    url = emulators.info["entra"]["graph_url"] + "/users"
    answer = session.get(url)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert "innerError" in answer.json()["error"]
    authed = graph_session(emulators)
    assert authed.get(url).status_code == 200
    emulators.control.expire_graph_tokens()
    assert "expired" in authed.get(url).json()["error"]["message"]


def test_users_page_with_absolute_next_links(emulators):
    session = graph_session(emulators)
    url = emulators.info["entra"]["graph_url"] + "/users"
    pages = _all_pages(session, url, {"$select": SELECT, "$top": "7"})
    users = [u for p in pages for u in p["value"]]
    assert len(users) == len(emulators.entra_app.state.users) > 50
    assert len({u["id"] for u in users}) == len(users)
    assert pages[0]["@odata.nextLink"].startswith(url + "?") and "%24select" not in pages[0]["@odata.nextLink"]
    assert set(users[0]) == set(SELECT.split(","))
    assert any(u["mail"] is None for u in users) and any(u["accountEnabled"] is False for u in users)
    assert session.get(url, params={"$top": "1000"}).status_code == 400
    assert session.get(url, params={"$count": "true"}).status_code == 400
    counted = session.get(url, params={"$count": "true"}, headers={"ConsistencyLevel": "eventual"}).json()
    assert counted["@odata.count"] == len(users)
    default = session.get(url).json()["value"][0]
    assert "accountEnabled" not in default and "businessPhones" in default


def test_user_filter_get_and_manager(emulators):
    session = graph_session(emulators)
    graph = emulators.info["entra"]["graph_url"]
    sales = session.get(
        f"{graph}/users", params={"$filter": "department eq 'Sales' and accountEnabled eq true", "$select": SELECT}
    ).json()["value"]
    assert sales and all(u["department"] == "Sales" and u["accountEnabled"] for u in sales)
    upn = sales[0]["userPrincipalName"]
    one = session.get(f"{graph}/users/{upn}", params={"$select": "id,displayName", "$expand": "manager"}).json()
    assert one["id"] == sales[0]["id"]
    missing = session.get(f"{graph}/users/nobody@contoso.onmicrosoft.com")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"
    bad = session.get(f"{graph}/users", params={"$filter": "department wibble 'x'"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_delta_follows_control_api_changes(emulators):
    session = graph_session(emulators)
    graph = emulators.info["entra"]["graph_url"]
    pages = _all_pages(session, f"{graph}/users/delta", {"$select": SELECT})
    assert sum(len(p["value"]) for p in pages) == len(emulators.entra_app.state.users)
    delta_link = pages[-1]["@odata.deltaLink"]
    assert delta_link.startswith(f"{graph}/users/delta?$deltatoken=")
    control = emulators.control
    users = list(emulators.entra_app.state.users.values())
    control.update_entra_user(users[0]["id"], department="Legal")
    control.disable_entra_user(users[1]["userPrincipalName"])
    control.soft_delete_entra_user(users[2]["id"])
    control.hard_delete_entra_user(users[3]["id"])
    created = control.create_entra_user(userPrincipalName="new.person@contoso.onmicrosoft.com", displayName="New")
    changes = {u["id"]: u for p in _all_pages(session, delta_link) for u in p["value"]}
    assert changes[users[0]["id"]]["department"] == "Legal"
    assert changes[users[1]["id"]]["accountEnabled"] is False and "@removed" not in changes[users[1]["id"]]
    assert changes[users[2]["id"]]["@removed"] == {"reason": "changed"}
    assert changes[users[3]["id"]]["@removed"] == {"reason": "deleted"}
    assert created["id"] in changes and len(changes) == 5
    control.restore_entra_user(users[2]["id"])
    latest = session.get(f"{graph}/users/delta", params={"$deltatoken": "latest"}).json()
    assert latest["value"] == [] and "@odata.deltaLink" in latest
    control.expire_delta_tokens()
    gone = session.get(delta_link)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "syncStateNotFound"


def test_assignment_changes_show_in_no_delta(emulators):
    """Delta tracks a user's properties and manager, not app role assignments: only appRoleAssignedTo shows them."""
    session = graph_session(emulators)
    graph = emulators.info["entra"]["graph_url"]
    link = session.get(f"{graph}/users/delta", params={"$deltatoken": "latest"}).json()["@odata.deltaLink"]
    unassigned = [u for u in emulators.entra_app.state.users if u not in emulators.control.assigned_user_ids()][0]
    emulators.control.assign(unassigned, "Standard User")
    assert session.get(link).json()["value"] == []


def _group_delta(session, url, params=None):
    """Every page of a groups/delta round: (the groups as returned, the deltaLink)."""
    pages = _all_pages(session, url, params)
    return [g for p in pages for g in p["value"]], pages[-1]["@odata.deltaLink"], len(pages)


def test_group_delta_lists_members_then_only_membership_changes(emulators):
    session = graph_session(emulators)
    graph, control = emulators.info["entra"]["graph_url"], emulators.control
    team = control.create_group("Delta team", [])
    state = emulators.entra_app.state
    users = list(state.users)[:3]
    for user in users[:2]:
        control.add_group_member(team["id"], user)
    first, link, _ = _group_delta(
        session, f"{graph}/groups/delta", {"$filter": f"id eq '{team['id']}'", "$select": "displayName,members"}
    )
    assert [g["id"] for g in first] == [team["id"]] and first[0]["displayName"] == "Delta team"
    assert [m["id"] for m in first[0]["members@delta"]] == users[:2]
    assert all(m["@odata.type"] == "#microsoft.graph.user" and "@removed" not in m for m in first[0]["members@delta"])

    unchanged, link, _ = _group_delta(session, link)
    assert unchanged == []
    control.remove_group_member(team["id"], users[0])
    control.add_group_member(team["id"], users[2])
    control.update_entra_user(users[1], givenName="Renamed")  # a user's own change is no membership change
    changed, link, _ = _group_delta(session, link)
    assert [g["id"] for g in changed] == [team["id"]]
    assert changed[0]["members@delta"] == [
        {"@odata.type": "#microsoft.graph.user", "id": users[0], "@removed": {"reason": "deleted"}},
        {"@odata.type": "#microsoft.graph.user", "id": users[2]},
    ]
    assert _group_delta(session, link)[0] == []


def test_group_delta_latest_pages_large_groups_and_expires(emulators):
    session = graph_session(emulators)
    graph, control, state = emulators.info["entra"]["graph_url"], emulators.control, emulators.entra_app.state
    latest = session.get(f"{graph}/groups/delta", params={"$select": "members", "$deltatoken": "latest"}).json()
    assert latest["value"] == [] and "$deltatoken=" in latest["@odata.deltaLink"]
    members = list(state.users)[:12]
    big = control.create_group("Big delta group", members)
    nested = control.create_group("Nested delta group", [])
    control.add_group_member(big["id"], nested["id"])
    groups, link, pages = _group_delta(session, latest["@odata.deltaLink"])
    assert pages == 1 and [g["id"] for g in groups] == [big["id"]]  # created with its members: no change recorded
    assert groups[0]["members@delta"] == [{"@odata.type": "#microsoft.graph.group", "id": nested["id"]}]

    emulators.entra_app.group_delta.page_size = 5
    try:
        full, _, pages = _group_delta(session, f"{graph}/groups/delta", {"$filter": f"id eq '{big['id']}'",
                                                                          "$select": "members"})  # fmt: skip
    finally:
        emulators.entra_app.group_delta.page_size = 500
    assert pages == 3 and {g["id"] for g in full} == {big["id"]}  # one group spread over several pages
    assert [m["id"] for g in full for m in g["members@delta"]] == [*members, nested["id"]]
    control.expire_delta_tokens()
    gone = session.get(link)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "syncStateNotFound"


def test_service_principal_roles_and_assignments(emulators):
    session = graph_session(emulators)
    graph, sp_id = emulators.info["entra"]["graph_url"], emulators.info["entra"]["service_principal_id"]
    sp = session.get(f"{graph}/servicePrincipals/{sp_id}", params={"$select": "id,appId,displayName,appRoles"}).json()
    names = {r["displayName"] for r in sp["appRoles"]}
    assert {"System Administrator", "Standard User", "Chatter Free User"} <= names
    pages = _all_pages(session, f"{graph}/servicePrincipals/{sp_id}/appRoleAssignedTo", {"$top": "10"})
    assignments = [a for p in pages for a in p["value"]]
    assert {a["principalType"] for a in assignments} == {"User", "Group"}
    assert any(a["appRoleId"] == DEFAULT_ACCESS for a in assignments)
    per_user = {}
    for a in assignments:
        per_user.setdefault(a["principalId"], []).append(a["appRoleId"])
    assert any(len(roles) == 2 for roles in per_user.values())
    user = [u for u in emulators.entra_app.state.users if u not in per_user][0]
    role = next(r["id"] for r in sp["appRoles"] if r["displayName"] == "Read Only")
    created = session.post(
        f"{graph}/servicePrincipals/{sp_id}/appRoleAssignedTo",
        json={"principalId": user, "resourceId": sp_id, "appRoleId": role},
    )
    assert created.status_code == 201
    assert (
        session.post(
            f"{graph}/servicePrincipals/{sp_id}/appRoleAssignedTo",
            json={"principalId": user, "resourceId": sp_id, "appRoleId": role},
        ).status_code
        == 400
    )
    deleted = session.delete(f"{graph}/servicePrincipals/{sp_id}/appRoleAssignedTo/{created.json()['id']}")
    assert deleted.status_code == 204
    roles = [
        *sp["appRoles"],
        {"id": "9e2b7c1a-0000-4000-8000-000000000001", "displayName": "Analyst", "value": "Analyst"},
    ]
    assert session.patch(f"{graph}/servicePrincipals/{sp_id}", json={"appRoles": roles}).status_code == 204
    assert len(session.get(f"{graph}/servicePrincipals/{sp_id}").json()["appRoles"]) == len(roles)


def test_group_members_are_direct_and_transitive_members_nested(emulators):
    session = graph_session(emulators)
    graph = emulators.info["entra"]["graph_url"]
    groups = session.get(f"{graph}/groups", params={"$filter": "displayName eq 'All Staff'"}).json()["value"]
    gid = groups[0]["id"]
    direct = session.get(f"{graph}/groups/{gid}/members").json()["value"]
    nested = [m for p in _all_pages(session, f"{graph}/groups/{gid}/transitiveMembers") for m in p["value"]]
    users_only = _all_pages(session, f"{graph}/groups/{gid}/transitiveMembers/microsoft.graph.user")
    assert {m["@odata.type"] for m in direct} == {"#microsoft.graph.group", "#microsoft.graph.user"}
    assert len(nested) > len(direct)
    assert all(m["@odata.type"] == "#microsoft.graph.user" for p in users_only for m in p["value"])


def test_throttling_carries_retry_after(emulators):
    session = graph_session(emulators)
    url = emulators.info["entra"]["graph_url"] + "/users"
    emulators.control.throttle("entra", 2, retry_after=3)
    for _ in range(2):
        answer = session.get(url)
        assert answer.status_code == 429 and answer.headers["Retry-After"] == "3"
        assert answer.json()["error"]["code"] == "TooManyRequests"
    assert session.get(url).status_code == 200


def test_token_endpoint_throttling_is_returned_by_msal(emulators):
    emulators.control.throttle_token_endpoint(1, retry_after=2)
    answer = msal_app(emulators).acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert answer["error"] == "temporarily_unavailable"


def test_batch_answers_by_id_with_inner_throttling(emulators):
    session = graph_session(emulators)
    graph = emulators.info["entra"]["graph_url"]
    ids = list(emulators.entra_app.state.users)[:3]
    requests_ = [{"id": str(n), "method": "GET", "url": f"/users/{uid}?$select=id,mail"} for n, uid in enumerate(ids)]
    requests_.append({"id": "x", "method": "GET", "url": "/users/nobody"})
    emulators.control.throttle("entra", 1, retry_after=5)
    answer = session.post(f"{graph}/$batch", json={"requests": requests_})
    assert answer.status_code == 200
    by_id = {r["id"]: r for r in answer.json()["responses"]}
    assert by_id["0"]["status"] == 429 and by_id["0"]["headers"]["Retry-After"] == "5"
    assert by_id["1"]["status"] == 200 and by_id["1"]["body"]["id"] == ids[1]
    assert by_id["x"]["status"] == 404
    too_many = [{"id": str(n), "method": "GET", "url": "/users"} for n in range(21)]
    assert session.post(f"{graph}/$batch", json={"requests": too_many}).status_code == 400
    dupes = [{"id": "1", "method": "GET", "url": "/users"}] * 2
    assert session.post(f"{graph}/$batch", json={"requests": dupes}).status_code == 400


def test_random_faults_and_latency(emulators):
    session = graph_session(emulators)
    url = emulators.info["entra"]["graph_url"] + "/users"
    emulators.control.set_fault_rates("entra", rate_500=1.0)
    assert session.get(url).status_code == 500
    emulators.control.set_fault_rates("entra")
    emulators.control.set_latency(200, "entra")
    start = time.monotonic()
    session.get(url)
    assert time.monotonic() - start >= 0.2


def test_http_control_api_matches_python_control(emulators):
    session = emulators.session()
    control = emulators.info["control_url"]
    assert "counters" in session.get(control + "/").json()["methods"]
    graph_session(emulators)
    counters = session.get(f"{control}/counters").json()["result"]
    assert counters["entra"]["POST /TENANT/oauth2/v2.0/token"] == 1
    session.post(f"{control}/reject_logins", json={"code": "API_DISABLED_FOR_ORG"})
    assert emulators.salesforce_app.state.login_rejection == "API_DISABLED_FOR_ORG"
    upn = next(iter(emulators.entra_app.state.users.values()))["userPrincipalName"]
    changed = session.post(f"{control}/update_entra_user", json={"id_or_upn": upn, "jobTitle": "Chief"}).json()
    assert changed["result"]["jobTitle"] == "Chief"
    assert session.post(f"{control}/reject_logins", json={"code": "NOPE"}).status_code == 400
    user = session.post(f"{control}/get_salesforce_user", json={"username": "admin@contoso.com.uat"}).json()["result"]
    assert user["ProfileName"] == "System Administrator"
    session.post(f"{control}/reset_counters")
    assert session.get(f"{control}/counters").json()["result"]["totals"] == {"salesforce": 0, "entra": 0}


def test_http_control_api_refuses_unusable_numbers_and_keeps_serving(emulators):
    session = emulators.session()
    control = emulators.info["control_url"]
    for method, body, message in (
        ("set_latency", {"ms": "abc"}, "ms must be a number, got 'abc'"),
        ("set_latency", {"ms": -5}, "ms must be 0 or more"),
        ("throttle", {"system": "entra", "count": 1.5}, "count must be a whole number"),
        ("set_fault_rates", {"system": "salesforce", "rate_500": True}, "rate_500 must be a number"),
    ):
        answer = session.post(f"{control}/{method}", json=body)
        assert answer.status_code == 400
        assert message in answer.json()["error"]
    assert session.post(f"{control}/get_entra_user", json=[]).status_code == 400
    assert emulators.salesforce_app.latency_ms == 0
    assert session.get(emulators.info["salesforce"]["instance_url"] + "/services/data/").status_code == 200
    assert session.post(f"{control}/set_latency", json={"ms": 0}).json() == {"result": None}


def test_a_users_groups_and_assignments_as_provision_on_demand_reads_them(emulators):
    """transitiveMemberOf lists nested groups; a user's appRoleAssignments add those of the direct groups (as Graph
    documents), filtered by resourceId; a group's own appRoleAssignments complete the nested case."""
    session = graph_session(emulators)
    graph, sp_id = emulators.info["entra"]["graph_url"], emulators.info["entra"]["service_principal_id"]
    state = emulators.entra_app.state
    outer, inner = next(
        (g, m)
        for g, v in state.groups.items()
        for m in v["members"]
        if m in state.groups and state.groups[m]["members"]
    )
    user = next(m for m in state.groups[inner]["members"] if m in state.users)
    emulators.control.assign(outer, "Standard User")
    emulators.control.assign(inner, "Read Only")

    groups = session.get(f"{graph}/users/{user}/transitiveMemberOf/microsoft.graph.group", params={"$select": "id"})
    assert {outer, inner} <= {g["id"] for g in groups.json()["value"]}
    assert set(groups.json()["value"][0]) == {"@odata.type", "id"}

    mine = session.get(f"{graph}/users/{user}/appRoleAssignments", params={"$filter": f"resourceId eq {sp_id}"})
    principals = {a["principalId"] for a in mine.json()["value"]}
    assert inner in principals and outer not in principals  # the direct group only, like Graph
    other = "00000000-1111-2222-3333-444444444444"
    assert (
        session.get(f"{graph}/users/{user}/appRoleAssignments", params={"$filter": f"resourceId eq {other}"}).json()[
            "value"
        ]
        == []
    )

    of_outer = session.get(f"{graph}/groups/{outer}/appRoleAssignments", params={"$filter": f"resourceId eq {sp_id}"})
    assert {a["principalId"] for a in of_outer.json()["value"]} == {outer}
    bad = session.get(f"{graph}/groups/{outer}/appRoleAssignments", params={"$filter": "appRoleId eq 'x'"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_directory_extensions_are_listed_selected_and_left_out_when_unset(emulators):
    session = graph_session(emulators)
    graph = emulators.info["entra"]["graph_url"]
    found = session.post(f"{graph}/directoryObjects/getAvailableExtensionProperties", json={}).json()["value"]
    badge = next(p for p in found if p["name"].endswith("_badgeNumber"))
    assert badge["dataType"] == "String" and badge["targetObjects"] == ["User"] and badge["appDisplayName"] == "HR sync"
    assert badge["name"].startswith("extension_") and len(badge["name"].split("_")[1]) == 32
    synced = session.post(
        f"{graph}/directoryObjects/getAvailableExtensionProperties", json={"isSyncedFromOnPremises": True}
    ).json()["value"]
    assert badge not in synced
    select = f"id,{badge['name']},onPremisesExtensionAttributes,employeeOrgData"
    users = session.get(f"{graph}/users", params={"$select": select, "$top": "12"}).json()["value"]
    assert users[1][badge["name"]].startswith("B") and badge["name"] not in users[0]
    assert set(users[0]["onPremisesExtensionAttributes"]) == {f"extensionAttribute{n}" for n in range(1, 16)}
    assert users[0]["onPremisesExtensionAttributes"]["extensionAttribute1"] == "Contractor"
    assert users[0]["employeeOrgData"]["division"]
    unknown = session.get(f"{graph}/users", params={"$select": "id,extension_0123456789abcdef0123456789abcdef_x"})
    assert unknown.status_code == 400 and "Could not find a property named" in unknown.json()["error"]["message"]
    emulators.control.register_extension_property("0123456789abcdef0123456789abcdef", "x", "Integer")
    upn = users[0]["id"]
    emulators.control.update_entra_user(upn, extension_0123456789abcdef0123456789abcdef_x=7)
    again = session.get(f"{graph}/users/{upn}", params={"$select": "id,extension_0123456789abcdef0123456789abcdef_x"})
    assert again.json()["extension_0123456789abcdef0123456789abcdef_x"] == 7


def test_users_count_and_users_by_id_as_graph_answers_them(emulators):
    session = graph_session(emulators)
    graph = emulators.info["entra"]["graph_url"]
    refused = session.get(f"{graph}/users/$count")
    assert refused.status_code == 400 and "ConsistencyLevel" in refused.json()["error"]["message"]
    counted = session.get(f"{graph}/users/$count", headers={"ConsistencyLevel": "eventual"})
    assert counted.headers["Content-Type"].startswith("text/plain")
    assert int(counted.text) == len(emulators.entra_app.state.users)
    ids = list(emulators.entra_app.state.users)
    some = ",".join(f"'{i}'" for i in ids[:15])
    found = session.get(f"{graph}/users", params={"$filter": f"id in ({some})", "$select": "id,mail"}).json()
    assert sorted(u["id"] for u in found["value"]) == sorted(ids[:15])
    sixteen = ",".join(f"'{i}'" for i in ids[:16])
    too_many = session.get(f"{graph}/users", params={"$filter": f"id in ({sixteen})"})
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_create_assigned_groups_in_one_call_with_nesting_and_default_access(emulator_state_reset):
    control = emulator_state_reset.control
    users = control.assigned_user_ids()[:3]
    before = control.create_assigned_groups(groups=[])["assignments"]
    made = control.create_assigned_groups(
        groups=[
            {"name": "Bench inner", "members": users[:2], "role": "Standard User"},
            {"name": "Bench outer", "members": [users[2]], "role": "Standard User"},
            {"name": "Bench default", "members": [], "role": None},
        ]
    )
    inner, outer, default = made["created"]
    assert made["assignments"] == before + 3
    state = emulator_state_reset.entra_app.state
    state.groups[outer["id"]]["members"].append(inner["id"])
    assert set(state.transitive_members(outer["id"])) == {*users, inner["id"]}
    assert state.assignments[default["assignment_id"]]["appRoleId"] == DEFAULT_ACCESS
    assert state.assignments[inner["assignment_id"]]["principalId"] == inner["id"]
    with pytest.raises(KeyError, match="no user or group 'nobody'"):
        control.create_assigned_groups(groups=[{"name": "Broken", "members": ["nobody"], "role": None}])


@pytest.mark.parametrize("resource", ["users", "groups"])
def test_a_skiptoken_of_an_unknown_or_expired_delta_round_is_gone(emulators, resource):
    session = graph_session(emulators)
    graph = emulators.info["entra"]["graph_url"]
    routes = emulators.entra_app.users if resource == "users" else emulators.entra_app.group_delta
    attribute = "delta_page_size" if resource == "users" else "page_size"
    size = getattr(routes, attribute)
    setattr(routes, attribute, 1)
    try:
        first = session.get(f"{graph}/{resource}/delta").json()
    finally:
        setattr(routes, attribute, size)
    next_link = first["@odata.nextLink"]
    for junk in ("not-a-token", "eyJyIjoibm9uZSJ9"):  # not base64 JSON; {"r":"none"}
        gone = session.get(f"{graph}/{resource}/delta", params={"$skiptoken": junk})
        assert gone.status_code == 410 and gone.json()["error"]["code"] == "syncStateNotFound"
    emulators.control.expire_delta_tokens()
    gone = session.get(next_link)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "syncStateNotFound"
