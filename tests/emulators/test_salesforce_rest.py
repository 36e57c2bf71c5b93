"""Salesforce REST behaviour that provisioning depends on, through the real simple-salesforce."""

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from emulators.ids import sf18
from tests.emulators.helpers import direct_client, new_user

pytestmark = pytest.mark.usefixtures("emulator_state_reset")


@pytest.fixture
def sf(emulators):
    return direct_client(emulators)


@pytest.fixture
def standard(emulators):
    return emulators.control.profile_id("Standard User")


def test_ids_are_18_characters_with_a_valid_checksum():
    assert sf18("001D000000IRFma") == "001D000000IRFmaIAH"
    assert sf18("001D000000Iomaz") == "001D000000IomazIAB"
    assert sf18("01gD0000002HU6K") == "01gD0000002HU6KIAW"


def test_create_get_update_and_no_delete(sf, standard, emulators):
    created = sf.User.create(new_user(1, ProfileId=standard))
    assert created["success"] and created["id"].startswith("005") and sf18(created["id"][:15]) == created["id"]
    assert sf.User.update(created["id"], {"Title": "Buyer", "IsActive": False}) == 204
    fetched = sf.User.get(created["id"])
    assert fetched["Title"] == "Buyer" and fetched["IsActive"] is False
    assert fetched["attributes"]["type"] == "User"
    assert sf.User.get(created["id"][:15])["Id"] == created["id"]
    with pytest.raises(SalesforceGeneralError) as err:
        sf.User.delete(created["id"])
    assert err.value.status == 405 and err.value.content[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    with pytest.raises(SalesforceResourceNotFound):
        sf.User.get("005" + "5g0" + "ZZZZZZZZZ" + "AAA")
    users = sf.User  # each attribute access builds a new SFType, which keeps its own api_usage
    users.get(created["id"])
    assert users.api_usage["api-usage"].total == 5_000_000


def test_required_fields_and_lengths(sf, standard):
    body = new_user(2, ProfileId=standard)
    del body["LastName"], body["Alias"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.User.create(body)
    assert err.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert err.value.content[0]["fields"] == ["LastName", "Alias"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.User.create(new_user(3, ProfileId=standard, Alias="muchtoolong"))
    assert err.value.content[0]["errorCode"] == "STRING_TOO_LONG"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.User.create(new_user(4, ProfileId="00e5g000000ZZZZAAA"))
    assert err.value.content[0]["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.User.create(new_user(5, ProfileId=standard, TimeZoneSidKey="Mars/Olympus"))
    assert err.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_usernames_are_unique_across_orgs_and_nicknames_in_the_org(sf, standard, emulators):
    sf.User.create(new_user(6, ProfileId=standard, CommunityNickname="nick6"))
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.User.create(new_user(6, ProfileId=standard))
    assert err.value.content[0]["errorCode"] == "DUPLICATE_USERNAME"
    emulators.control.add_taken_username("elsewhere@contoso.com.uat")
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.User.create(new_user(7, ProfileId=standard, Username="Elsewhere@contoso.com.uat"))
    assert err.value.content[0]["errorCode"] == "DUPLICATE_USERNAME"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.User.create(new_user(8, ProfileId=standard, CommunityNickname="NICK6"))
    assert err.value.content[0]["errorCode"] == "DUPLICATE_COMM_NICKNAME"


def test_collections_answer_per_record_in_input_order(sf, standard, emulators):
    records = [
        {"attributes": {"type": "User"}, **new_user(10, ProfileId=standard)},
        {"attributes": {"type": "User"}, **{k: v for k, v in new_user(11, ProfileId=standard).items() if k != "Email"}},
        {"attributes": {"type": "User"}, **new_user(10, ProfileId=standard)},
        {"attributes": {"type": "User"}, **new_user(12, ProfileId=standard)},
    ]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": records})
    assert [r["success"] for r in results] == [True, False, False, True]
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[2]["errors"][0]["statusCode"] == "DUPLICATE_USERNAME"
    update = [
        {"attributes": {"type": "User"}, "id": results[0]["id"], "IsActive": False},
        {"attributes": {"type": "User"}, "id": results[3]["id"], "Alias": "waytoolongalias"},
    ]
    updated = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": update})
    assert [r["success"] for r in updated] == [True, False]
    assert emulators.control.get_salesforce_user(id=results[0]["id"])["IsActive"] is False
    assert emulators.control.counters()["writes"]["salesforce"] == 2


def test_all_or_none_rolls_back_the_valid_records(sf, standard, emulators):
    records = [
        {"attributes": {"type": "User"}, **new_user(20, ProfileId=standard)},
        {"attributes": {"type": "User"}, **new_user(21, ProfileId=standard, Alias="muchtoolong")},
    ]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert emulators.control.get_salesforce_user(username="new.user20@contoso.com.uat") is None


def test_collections_refuse_more_than_200_records(sf, standard):
    records = [{"attributes": {"type": "User"}, **new_user(i, ProfileId=standard)} for i in range(201)]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/sobjects", method="POST", json={"records": records})


def test_composite_wraps_collections_and_limits_them_to_five(sf, standard):
    def sub(n):
        return {
            "method": "POST",
            "url": "/services/data/v59.0/composite/sobjects",
            "referenceId": f"c{n}",
            "body": {"records": [{"attributes": {"type": "User"}, **new_user(30 + n, ProfileId=standard)}]},
        }

    answer = sf.restful("composite", method="POST", json={"compositeRequest": [sub(n) for n in range(5)]})
    assert [r["httpStatusCode"] for r in answer["compositeResponse"]] == [200] * 5
    assert all(r["body"][0]["success"] for r in answer["compositeResponse"])
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json={"compositeRequest": [sub(n) for n in range(10, 16)]})


def test_licence_limit(sf, standard, emulators):
    used = emulators.control.licence_usage()["Salesforce"]["used"]
    emulators.control.set_licence_count(used + 1)
    sf.User.create(new_user(40, ProfileId=standard))
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.User.create(new_user(41, ProfileId=standard))
    assert err.value.content[0]["errorCode"] == "LICENSE_LIMIT_EXCEEDED"
    inactive = sf.User.create(new_user(42, ProfileId=standard, IsActive=False))
    with pytest.raises(SalesforceMalformedRequest):
        sf.User.update(inactive["id"], {"IsActive": True})


def test_query_pages_past_2000_records(sf, standard, emulators):
    for n in range(2100):
        emulators.control.create_salesforce_user(**new_user(1000 + n, ProfileId=standard))
    first = sf.query("SELECT Id, Username FROM User WHERE Username LIKE 'new.user%'")
    assert first["totalSize"] == 2100 and len(first["records"]) == 2000 and not first["done"]
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    everything = sf.query_all("SELECT Id FROM User WHERE Username LIKE 'new.user%'")
    assert len({r["Id"] for r in everything["records"]}) == 2100
    small = sf.query("SELECT Id FROM User", headers={"Sforce-Query-Options": "batchSize=200"})
    assert len(small["records"]) == 200


def test_soql_filters_escaping_relationships_and_errors(sf, standard, emulators):
    emulators.control.create_salesforce_user(
        **new_user(50, ProfileId=standard, Username="sean.o'brien@contoso.com.uat")
    )
    found = sf.query(
        "SELECT Id, Profile.Name, UserRole.Name FROM User "
        "WHERE Username IN ('SEAN.O\\'BRIEN@contoso.com.uat', 'nobody@x.com') AND IsActive = true"
    )
    assert found["totalSize"] == 1
    assert found["records"][0]["Profile"]["Name"] == "Standard User" and found["records"][0]["UserRole"] is None
    ordered = sf.query("SELECT Name FROM Profile WHERE NOT Name LIKE 'S%' ORDER BY Name DESC LIMIT 2")
    assert [r["Name"] for r in ordered["records"]] == ["Read Only", "Minimum Access - Salesforce"]
    assert sf.query("SELECT IsSandbox FROM Organization LIMIT 1")["records"][0]["IsSandbox"] is True
    assert sf.query("SELECT COUNT() FROM User WHERE LastModifiedDate > 2000-01-01T00:00:00Z")["totalSize"] > 1
    assert sf.query("SELECT COUNT() FROM User WHERE LastModifiedDate < 2000-01-01T01:00:00+01:00")["totalSize"] == 0
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FROM User WHERE")
    assert err.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Nope FROM User")
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_in_and_not_in_compare_text_without_case(sf):
    profiles = sf.query("SELECT COUNT() FROM Profile")["totalSize"]
    found = sf.query("SELECT Name FROM Profile WHERE Name IN ('standard USER', 'Nobody') AND Name != 'x'")
    assert [r["Name"] for r in found["records"]] == ["Standard User"]
    assert sf.query("SELECT COUNT() FROM Profile WHERE Name NOT IN ('standard user')")["totalSize"] == profiles - 1
    assert sf.query("SELECT COUNT() FROM Profile WHERE NOT (Name NOT IN ('Standard User'))")["totalSize"] == 1


def test_describe_lists_custom_fields(sf):
    fields = {f["name"]: f for f in sf.User.describe()["fields"]}
    assert fields["Alias"]["length"] == 8 and fields["Entra_Object_Id__c"]["custom"] is True


def test_request_limit_and_server_faults(sf, emulators):
    emulators.control.request_limit_exceeded(1)
    with pytest.raises(SalesforceRefusedRequest) as err:
        sf.query("SELECT Id FROM User")
    assert err.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    emulators.control.set_fault_rates("salesforce", rate_503=1.0)
    with pytest.raises(SalesforceGeneralError) as err:
        sf.query("SELECT Id FROM User")
    assert err.value.status == 503
    emulators.control.set_fault_rates("salesforce", rate_timeout=1.0, timeout_seconds=1.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.query("SELECT Id FROM User")
    emulators.control.set_fault_rates("salesforce")
    emulators.control.set_api_usage(used=10, limit=10)
    with pytest.raises(SalesforceRefusedRequest):
        sf.query("SELECT Id FROM User")


def test_unable_to_lock_row_fails_single_records(sf, standard, emulators):
    emulators.control.unable_to_lock_row(1)
    records = [{"attributes": {"type": "User"}, **new_user(60 + n, ProfileId=standard)} for n in range(2)]
    results = sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert results[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW" and results[1]["success"]


def test_get_and_upsert_by_lookup_field(sf, standard, emulators):
    body = {k: v for k, v in new_user(70, ProfileId=standard).items()}
    created = sf.User.upsert("FederationIdentifier/fed70@contoso.com", body)
    assert created == 201
    assert sf.User.get_by_custom_id("FederationIdentifier", "fed70@contoso.com")["Username"] == body["Username"]
    assert sf.User.upsert("FederationIdentifier/fed70@contoso.com", {"Title": "Lead"}) == 200
    assert emulators.control.get_salesforce_user(username=body["Username"])["Title"] == "Lead"
    assert sf.User.get_by_custom_id("Username", body["Username"])["FederationIdentifier"] == "fed70@contoso.com"
    with pytest.raises(SalesforceResourceNotFound):
        sf.User.get_by_custom_id("Title", "Lead")


def test_query_all_pages_like_query(sf, standard, emulators):
    for n in range(2050):
        emulators.control.create_salesforce_user(**new_user(5000 + n, ProfileId=standard))
    first = sf.restful("queryAll/", params={"q": "SELECT Id FROM User WHERE Username LIKE 'new.user%'"})
    assert first["totalSize"] == 2050 and len(first["records"]) == 2000 and not first["done"]
    assert "/queryAll/01g" in first["nextRecordsUrl"]
    everything = sf.query_all("SELECT Id FROM User WHERE Username LIKE 'new.user%'", include_deleted=True)
    assert len({r["Id"] for r in everything["records"]}) == 2050


def test_every_rest_answer_carries_the_daily_api_counter(sf, emulators):
    session, base = sf.session, f"{sf.base_url}"
    headers = {"Authorization": f"Bearer {sf.session_id}"}
    used = []
    for path in ("limits/", "query/?q=SELECT+Id+FROM+Profile", "sobjects/User/005000000000000AAA", "query/?q=SELEC"):
        response = session.get(base + path, headers=headers)
        info = response.headers["Sforce-Limit-Info"]
        assert info.startswith("api-usage=") and info.endswith("/" + str(emulators.control.set_api_usage()["limit"]))
        used.append(int(info.split("=")[1].split("/")[0]))
    assert used == sorted(used) and used[-1] > used[0]  # errors (404, MALFORMED_QUERY) carry it too and count
