"""Access beyond the profile in the Salesforce emulator: each rule Salesforce applies to assignments, memberships and
UserLogin, reached through the real simple-salesforce over HTTPS."""

import pytest

from tests.emulators.helpers import direct_client, new_user

pytestmark = pytest.mark.usefixtures("emulator_state_reset")


@pytest.fixture
def sf(emulators):
    return direct_client(emulators)


@pytest.fixture
def user(sf, emulators):
    return sf.User.create(new_user(91, ProfileId=emulators.control.profile_id("Standard User")))["id"]


def create(sf, *records, all_or_none=False):
    return sf.restful("composite/sobjects", method="POST", json={"allOrNone": all_or_none, "records": list(records)})


def psa(user_id, **ids):
    return {"attributes": {"type": "PermissionSetAssignment"}, "AssigneeId": user_id, **ids}


def error_of(result):
    return result["errors"][0]["statusCode"], result["errors"][0]["message"]


def test_catalogue_is_queryable_with_salesforces_filters(sf):
    assignable = sf.query_all("SELECT Id, Name, Label FROM PermissionSet WHERE IsOwnedByProfile = false")["records"]
    names = {r["Name"] for r in assignable}
    assert {"Sales_Console", "Reports_Builder", "CRM_Analytics_Viewer"} <= names
    assert all(r["Id"].startswith("0PS") for r in assignable)
    owned = sf.query("SELECT COUNT() FROM PermissionSet WHERE IsOwnedByProfile = true")["totalSize"]
    assert owned == 8  # one per profile
    groups = sf.query_all("SELECT Id, Name, DeveloperName, Type FROM Group WHERE Type IN ('Regular', 'Queue')")
    assert {(g["DeveloperName"], g["Type"]) for g in groups["records"]} >= {
        ("EMEA_Sales", "Regular"),
        ("Support_Tier_1", "Queue"),
    }
    licences = sf.query_all("SELECT Id, DeveloperName, TotalLicenses, UsedLicenses FROM PermissionSetLicense")[
        "records"
    ]
    assert {r["DeveloperName"] for r in licences} == {"CRMAnalyticsPlusPsl", "SalesConsoleUser"}
    assert sf.query("SELECT Id, DeveloperName FROM PermissionSetGroup")["records"][0]["DeveloperName"] == "Sales_Team"


def test_assign_then_duplicate_is_refused_and_delete_removes(sf, user, emulators):
    ps = emulators.control.access_item_id("Sales_Console")
    first, second = create(sf, psa(user, PermissionSetId=ps), psa(user, PermissionSetId=ps))
    assert first["success"] and first["id"].startswith("0Pa")
    assert error_of(second)[0] == "DUPLICATE_VALUE"
    assert emulators.control.access_of(user)["permission_sets"] == ["Sales_Console"]
    rows = sf.query(
        f"SELECT Id, PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '{user}' "
        "AND PermissionSet.IsOwnedByProfile = false"
    )["records"]
    assert [r["Id"] for r in rows] == [first["id"]]
    gone = sf.restful("composite/sobjects", method="DELETE", params={"ids": f"{first['id']},{first['id']}"})
    assert gone[0]["success"] is True
    assert error_of(gone[1])[0] == "ENTITY_IS_DELETED"
    assert emulators.control.access_of(user)["permission_sets"] == []


def test_permission_set_needing_a_licence_is_refused_until_the_licence_is_assigned(sf, user, emulators):
    ps = emulators.control.access_item_id("CRM_Analytics_Viewer")
    licence = emulators.control.access_item_id("CRMAnalyticsPlusPsl")
    (refused,) = create(sf, psa(user, PermissionSetId=ps))
    code, message = error_of(refused)
    assert code == "FIELD_INTEGRITY_EXCEPTION" and "permission set license" in message
    licence_row = {
        "attributes": {"type": "PermissionSetLicenseAssign"},
        "AssigneeId": user,
        "PermissionSetLicenseId": licence,
    }
    # licence first, then the permission set, in one collection: processed in order
    results = create(sf, licence_row, psa(user, PermissionSetId=ps))
    assert [r["success"] for r in results] == [True, True]
    # the licence cannot go while the permission set that needs it stays
    (refused,) = sf.restful("composite/sobjects", method="DELETE", params={"ids": results[0]["id"]})
    assert error_of(refused)[0] == "FIELD_INTEGRITY_EXCEPTION"
    both = sf.restful("composite/sobjects", method="DELETE", params={"ids": f"{results[1]['id']},{results[0]['id']}"})
    assert [r["success"] for r in both] == [True, True]


def test_assignments_on_an_inactive_user_are_refused(sf, user, emulators):
    sf.User.update(user, {"IsActive": False})
    (refused,) = create(sf, psa(user, PermissionSetId=emulators.control.access_item_id("Reports_Builder")))
    assert error_of(refused)[0] == "INACTIVE_OWNER_OR_USER"


def test_profile_owned_permission_sets_and_unknown_ids(sf, user, emulators):
    owned = sf.query("SELECT Id FROM PermissionSet WHERE IsOwnedByProfile = true LIMIT 1")["records"][0]["Id"]
    deleted = emulators.control.access_item_id("Knowledge_Author")
    emulators.control.delete_access_item("Knowledge_Author")
    results = create(
        sf,
        psa(user, PermissionSetId=owned),
        psa(user, PermissionSetId=deleted),
        psa(user, PermissionSetId="00e000000000001"),
    )
    assert [error_of(r)[0] for r in results] == [
        "FIELD_INTEGRITY_EXCEPTION",
        "INVALID_CROSS_REFERENCE_KEY",
        "FIELD_INTEGRITY_EXCEPTION",
    ]


def test_group_membership_twice_returns_the_existing_record(sf, user, emulators):
    group = emulators.control.access_item_id("EMEA_Sales")
    row = {"attributes": {"type": "GroupMember"}, "GroupId": group, "UserOrGroupId": user}
    first, again = create(sf, row, dict(row))
    assert first["success"] and again["success"] and again["id"] == first["id"]
    assert emulators.control.access_of(user)["groups"] == ["EMEA_Sales"]


def test_licence_seats_run_out(sf, emulators):
    licence = emulators.control.access_item_id("CRMAnalyticsPlusPsl")
    standard = emulators.control.profile_id("Standard User")
    users = [sf.User.create(new_user(100 + n, ProfileId=standard))["id"] for n in range(51)]
    rows = [
        {"attributes": {"type": "PermissionSetLicenseAssign"}, "AssigneeId": u, "PermissionSetLicenseId": licence}
        for u in users
    ]
    results = create(sf, *rows)
    assert sum(r["success"] for r in results) == 50
    assert error_of(results[-1])[0] == "LICENSE_LIMIT_EXCEEDED"


def test_freeze_through_userlogin_and_password_lock_only_cleared(sf, user, emulators):
    login = sf.query(f"SELECT Id, IsFrozen FROM UserLogin WHERE UserId = '{user}'")["records"][0]
    assert login["IsFrozen"] is False
    update = {"attributes": {"type": "UserLogin"}, "id": login["Id"], "IsFrozen": True}
    locked = {"attributes": {"type": "UserLogin"}, "id": login["Id"], "IsPasswordLocked": True}
    ok, refused = sf.restful(
        "composite/sobjects", method="PATCH", json={"allOrNone": False, "records": [update, locked]}
    )
    assert ok["success"] and error_of(refused)[0] == "FIELD_INTEGRITY_EXCEPTION"
    assert emulators.control.access_of(user)["frozen"] is True


def test_deactivation_refused_for_a_default_owner(sf, user, emulators):
    emulators.control.block_deactivation(user)
    (result,) = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={"allOrNone": False, "records": [{"attributes": {"type": "User"}, "id": user, "IsActive": False}]},
    )
    code, message = error_of(result)
    assert code == "FIELD_INTEGRITY_EXCEPTION" and "cannot deactivate" in message
    assert emulators.control.get_salesforce_user(id=user)["IsActive"] is True


def test_counts_per_item_with_group_by(sf, user, emulators):
    ps = emulators.control.access_item_id("Reports_Builder")
    create(sf, psa(user, PermissionSetId=ps))
    rows = sf.query(
        "SELECT PermissionSetId, COUNT(Id) n, MAX(SystemModstamp) FROM PermissionSetAssignment "
        f"WHERE PermissionSetId IN ('{ps}') GROUP BY PermissionSetId"
    )["records"]
    assert rows[0]["PermissionSetId"] == ps and rows[0]["n"] == 1 and rows[0]["expr0"]


def test_composite_carries_deletes_and_inserts(sf, user, emulators):
    ps = emulators.control.access_item_id("Reports_Builder")
    base = "/services/data/v59.0/composite/sobjects"
    body = {
        "allOrNone": False,
        "compositeRequest": [
            {
                "method": "POST",
                "url": base,
                "referenceId": "grant",
                "body": {"allOrNone": False, "records": [psa(user, PermissionSetId=ps)]},
            },
            {"method": "DELETE", "url": base + "?ids=@{grant[0].id}&allOrNone=false", "referenceId": "revoke"},
        ],
    }
    answer = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert answer[0]["body"][0]["success"] and answer[1]["body"][0]["success"]
    assert emulators.control.access_of(user)["permission_sets"] == []


def test_lookup_ids_are_checked_whatever_their_form(sf, user, emulators):
    reports = emulators.control.access_item_id("Reports_Builder")
    sales = emulators.control.access_item_id("Sales_Console")
    knowledge = emulators.control.access_item_id("Knowledge_Author")
    results = create(
        sf,
        psa(user, PermissionSetId=reports),  # the id as Salesforce gives it
        psa(user[:15], PermissionSetId=sales[:15]),  # 15-character ids name the same records
        psa(user, PermissionSetId=knowledge[:15] + "AAA"),  # a checksum that does not match: not an id
        psa(user, PermissionSetId=""),
    )
    assert results[0]["success"] and results[1]["success"]
    assert [error_of(r)[0] for r in results[2:]] == ["FIELD_INTEGRITY_EXCEPTION", "REQUIRED_FIELD_MISSING"]
    assert sorted(emulators.control.access_of(user)["permission_sets"]) == ["Reports_Builder", "Sales_Console"]
