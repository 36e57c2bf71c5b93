"""DefaultDomain and SelectUniqueValue in cycles, dry runs and provision on demand: the tenant's default domain read
through Graph, SelectUniqueValue's candidates checked in Salesforce with the client's SOQL (one query per candidate
set, remembered for the page), and AppRoleAssignmentsComplex's role objects carrying their app role ids."""

from __future__ import annotations

import json

import pytest

from connections.clients.salesforce import SalesforceClient
from mappings.lookups import SalesforceUniqueness
from mappings.models import AttributeMapping, FlowType, MappingType
from provisioning.models import CycleStatus, LogAction, ProvisioningLogEntry
from provisioning.operations.dry_run import run_dry_run
from provisioning.operations.on_demand import provision_on_demand
from tests.operations.conftest import plain_assigned_users, run, sf_user

pytestmark = pytest.mark.django_db(transaction=True)

NICKNAME = (
    'SelectUniqueValue([mailNickname], Append([mailNickname], "2"), Append([mailNickname], "3"), '
    'Append([mailNickname], "4"))'
)


def _map(application, target: str, expression: str, flow_type: str = FlowType.ALWAYS) -> None:
    AttributeMapping.objects.create(
        object_mapping=application.user_mapping,
        target_attribute=target,
        mapping_type=MappingType.EXPRESSION,
        expression=expression,
        flow_type=flow_type,
    )


def _soql_queries(emu) -> int:
    return sum(
        n for label, n in emu.control.counters()["salesforce"].items() if label.startswith("GET") and "/query" in label
    )


def _namesakes(emu, count: int, nickname: str) -> list[str]:
    """`count` new assigned users who all have the mail nickname `nickname`."""
    upns = []
    for n in range(count):
        upn = f"namesake{n}@contoso.onmicrosoft.com"
        emu.control.create_entra_user(
            userPrincipalName=upn,
            mail=upn,
            mailNickname=nickname,
            givenName="Sam",
            surname=f"Lee{n}",
            displayName="Sam Lee",
        )
        emu.control.assign(upn, "Standard User")
        upns.append(upn)
    return upns


def test_select_unique_value_skips_values_salesforce_holds_and_never_repeats_one_in_a_cycle(configured_app, emu):
    emu.control.create_salesforce_user(
        Username="someone.else@contoso.com.uat", LastName="Else", Email="else@contoso.com", Alias="else",
        CommunityNickname="SAM.LEE", TimeZoneSidKey="Europe/London", LocaleSidKey="en_US",
        EmailEncodingKey="ISO-8859-1", LanguageLocaleKey="en_US", ProfileId=emu.control.profile_id("Standard User"),
    )  # fmt: skip
    upns = _namesakes(emu, 2, "sam.lee")
    _map(configured_app, "CommunityNickname", NICKNAME, FlowType.OBJECT_ADD_ONLY)
    cycle = run(configured_app.job)
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), cycle.error_message
    # "sam.lee" is taken (Salesforce compares without regard to case); the two namesakes share no value.
    nicknames = sorted(sf_user(emu, upn)["CommunityNickname"] for upn in upns)
    assert nicknames == ["sam.lee2", "sam.lee3"]


def test_candidates_are_checked_in_one_query_per_candidate_set_remembered_for_the_page(configured_app, emu):
    uniqueness = SalesforceUniqueness(SalesforceClient(configured_app.salesforce))
    uniqueness.client.ensure_signed_in()
    emu.control.reset_counters()
    taken = uniqueness.taken("CommunityNickname", ["integration.admin", "nobody.here", "nobody.there"])
    assert taken == {"integration.admin"} and _soql_queries(emu) == 1
    assert uniqueness.taken("CommunityNickname", ["nobody.here", "integration.admin"]) == {"integration.admin"}
    assert _soql_queries(emu) == 1  # the same page: answered from what the query told
    uniqueness.reserve("CommunityNickname", "nobody.here")
    uniqueness.start_page()
    assert uniqueness.taken("CommunityNickname", ["nobody.here", "nobody.there"]) == {"nobody.here"}
    assert _soql_queries(emu) == 2


def test_a_dry_run_and_provision_on_demand_check_the_candidates_too(configured_app, emu):
    first, second = _namesakes(emu, 2, "integration.admin")  # the seeded admin holds that nickname already
    _map(configured_app, "CommunityNickname", NICKNAME, FlowType.OBJECT_ADD_ONLY)
    cycle = run_dry_run(configured_app.job)
    entry = ProvisioningLogEntry.objects.get(cycle=cycle, action=LogAction.CREATE, source_upn=first)
    planned = {p["displayName"]: p["newValue"] for p in entry.modified_properties}
    assert planned["CommunityNickname"] == "integration.admin2"
    assert sf_user(emu, first) is None  # nothing written
    result = provision_on_demand(configured_app, second)
    assert result.steps[-1].status == "success", result.message
    assert sf_user(emu, second)["CommunityNickname"] == "integration.admin2"


def test_default_domain_is_the_tenants_and_a_missing_permission_stops_the_cycle_saying_which(configured_app, emu):
    user = plain_assigned_users(emu)[0]
    _map(configured_app, "FederationIdentifier", 'Join("@", [mailNickname], DefaultDomain())')
    emu.control.withhold_permission("Organization.Read.All")
    failed = run(configured_app.job)
    assert failed.status == CycleStatus.FAILED
    assert "Organization.Read.All" in failed.error_message
    emu.control.withhold_permission("Organization.Read.All", False)
    cycle = run(configured_app.job)
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), cycle.error_message
    assert sf_user(emu, user["userPrincipalName"])["FederationIdentifier"] == f"{user['mailNickname']}@contoso.com"


def test_app_role_assignments_complex_sends_the_documented_json_with_the_app_role_id(configured_app, emu):
    roles = {r["id"]: r for r in emu.entra_app.state.service_principal["appRoles"]}
    user = next(u for u in plain_assigned_users(emu) if u["appRoleAssignments"][0]["appRoleId"] in roles)
    role_id = user["appRoleAssignments"][0]["appRoleId"]
    role = roles[role_id]
    _map(configured_app, "Street", "AppRoleAssignmentsComplex([appRoleAssignments])")
    result = provision_on_demand(configured_app, user["userPrincipalName"])
    assert result.steps[-1].status == "success", result.message
    about = json.loads(sf_user(emu, user["userPrincipalName"])["Street"])
    assert about == [{"id": role_id, "value": role["value"], "displayName": role["displayName"]}]
