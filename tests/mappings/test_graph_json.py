"""Import and export of the mapping as Graph's synchronization objectMapping."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from console.models import AuditActivity, AuditEntry
from mappings.expressions import parse, unparse
from mappings.graph_json import MappingImportError, export_object_mapping, import_object_mapping
from mappings.graph_tree import node_source, parameter_keys, source_node
from mappings.models import (
    AttributeMapping,
    ObjectMapping,
    ScopingClause,
    ScopingFilter,
    SourceAttribute,
    TargetAttribute,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def mapping(application) -> ObjectMapping:
    return ObjectMapping.objects.get(application=application)


def _by_target(document: dict) -> dict[str, dict]:
    return {m["targetAttributeName"]: m for m in document["attributeMappings"]}


def test_export_has_graphs_object_mapping_shape(mapping):
    document = export_object_mapping(mapping)
    assert document["flowTypes"] == "Add, Update, Delete"
    assert (document["sourceObjectName"], document["targetObjectName"], document["enabled"]) == ("User", "User", True)
    assert document["scope"] is None
    rows = _by_target(document)
    assert rows["Username"]["matchingPriority"] == 1
    assert rows["FirstName"]["source"] == {
        "expression": "[givenName]",
        "name": "givenName",
        "parameters": [],
        "type": "Attribute",
    }
    assert rows["EmailEncodingKey"]["source"] is None
    assert rows["EmailEncodingKey"]["defaultValue"] == "ISO-8859-1"
    alias = rows["Alias"]["source"]
    assert (alias["type"], alias["name"], alias["expression"]) == ("Function", "Mid", "Mid([userPrincipalName], 1, 8)")
    assert [p["key"] for p in alias["parameters"]] == ["source", "start", "length"]
    assert alias["parameters"][1]["value"] == {"expression": '"1"', "name": "1", "parameters": [], "type": "Constant"}
    locale = rows["LocaleSidKey"]["source"]
    # Skipped optional arguments are left out, the rest keep Graph's keys.
    assert [p["key"] for p in locale["parameters"]] == ["source", "Find", "Replacement"]
    for row in document["attributeMappings"]:
        assert set(row) == {
            "defaultValue",
            "exportMissingReferences",
            "flowBehavior",
            "flowType",
            "matchingPriority",
            "source",
            "targetAttributeName",
        }


def test_round_trip_export_import_export_is_equal(mapping, admin_user):
    scoping_filter = ScopingFilter.objects.create(object_mapping=mapping, title="Sales")
    ScopingClause.objects.create(
        scoping_filter=scoping_filter, attribute="department", operator="EQUALS", value="Sales"
    )
    ScopingClause.objects.create(scoping_filter=scoping_filter, attribute="mail", operator="IS NOT NULL")
    AttributeMapping.objects.create(
        object_mapping=mapping, target_attribute="Title", mapping_type="Constant", constant_value='He said "hi"\\'
    )
    AttributeMapping.objects.create(
        object_mapping=mapping,
        target_attribute="Department",
        mapping_type="Expression",
        expression='Switch([department], "Other", "", "Unknown", "Sales", "S")',
        flow_type="ObjectAddOnly",
    )
    mapping.action_delete = False
    mapping.save()
    first = export_object_mapping(mapping)
    import_object_mapping(mapping, copy.deepcopy(first), actor=admin_user)
    second = export_object_mapping(ObjectMapping.objects.get(pk=mapping.pk))
    assert second == first
    assert second["flowTypes"] == "Add, Update"
    assert second["scope"]["groups"][0]["clauses"][1] == {
        "operatorName": "IS NOT NULL",
        "sourceOperandName": "mail",
        "targetOperand": {"values": []},
    }


def test_import_bumps_the_version_and_audits(mapping, admin_user):
    document = export_object_mapping(mapping)
    import_object_mapping(mapping, document, actor=admin_user)
    assert ObjectMapping.objects.get(pk=mapping.pk).version == 2
    entry = AuditEntry.objects.get(activity=AuditActivity.UPDATE_MAPPINGS)
    assert "Imported 14 attribute mappings" in entry.detail


def test_errors_name_their_place_and_nothing_is_half_imported(mapping):
    document = export_object_mapping(mapping)
    rows = document["attributeMappings"]
    index = next(i for i, r in enumerate(rows) if r["targetAttributeName"] == "Alias")
    rows[index]["source"]["expression"] = "Mid([userPrincipalName], 1)"
    first_name = next(i for i, r in enumerate(rows) if r["targetAttributeName"] == "FirstName")
    rows[first_name]["source"]["name"] = "givenname"
    rows.append({"targetAttributeName": "Nickname__x", "source": None, "defaultValue": "x"})
    document["scope"] = {
        "groups": [
            {
                "clauses": [
                    {"operatorName": "REGEX MATCH", "sourceOperandName": "mail", "targetOperand": {"values": ["("]}}
                ]
            }
        ]
    }
    before = list(AttributeMapping.objects.filter(object_mapping=mapping).values_list("target_attribute", "expression"))
    with pytest.raises(MappingImportError) as caught:
        import_object_mapping(mapping, document)
    errors = caught.value.errors
    assert f"attributeMappings[{index}] (target Alias): Mid expects 3 arguments, got 2 (column 1)" in errors[0]
    assert any(
        e.startswith(
            f"attributeMappings[{first_name}] (target FirstName): "
            "unknown attribute [givenname]: did you mean [givenName]?"
        )
        for e in errors
    )
    assert any(
        e.startswith(f"attributeMappings[{len(rows) - 1}] (target Nickname__x): unknown target attribute")
        for e in errors
    )
    assert any(e.startswith("scope.groups[0].clauses[0] (mail REGEX MATCH):") for e in errors)
    after = list(AttributeMapping.objects.filter(object_mapping=mapping).values_list("target_attribute", "expression"))
    assert after == before
    assert ObjectMapping.objects.get(pk=mapping.pk).version == 1


def test_an_import_refuses_select_unique_value_on_every_update_or_for_matching(mapping):
    document = export_object_mapping(mapping)
    username = next(r for r in document["attributeMappings"] if r["targetAttributeName"] == "Username")
    username["source"] = {"expression": "SelectUniqueValue([userPrincipalName], [mail])", "type": "Function"}
    with pytest.raises(MappingImportError) as caught:
        import_object_mapping(mapping, document)
    errors = "\n".join(caught.value.errors)
    assert "(target Username): SelectUniqueValue cannot be used to match objects" in errors
    assert "(target Username): SelectUniqueValue works only when the user is created" in errors


def test_a_required_attribute_missing_from_an_import_is_reported(mapping):
    document = export_object_mapping(mapping)
    document["attributeMappings"] = [r for r in document["attributeMappings"] if r["targetAttributeName"] != "Alias"]
    with pytest.raises(MappingImportError) as caught:
        import_object_mapping(mapping, document)
    assert "attributeMappings: required attribute Alias has no mapping" in caught.value.errors


def test_an_entra_schema_with_source_trees_only_is_imported(mapping):
    """Entra's exported schema wraps the mapping in synchronizationRules; a tree without expression text still works."""
    document = export_object_mapping(mapping)
    for row in document["attributeMappings"]:
        if row["source"] and row["source"]["type"] == "Function":
            del row["source"]["expression"]
    schema = {"synchronizationRules": [{"objectMappings": [{"sourceObjectName": "Group"}, document]}]}
    import_object_mapping(mapping, schema)
    rows = {r.target_attribute: r for r in AttributeMapping.objects.filter(object_mapping=mapping)}
    assert rows["Alias"].expression == 'Mid([userPrincipalName], "1", "8")'
    assert rows["LocaleSidKey"].expression == 'Replace([preferredLanguage], "-", , , "_", , )'
    assert rows["Username"].expression == 'Append([userPrincipalName], ".uat")'


def test_importing_a_different_suffix_updates_the_sandbox_suffix(mapping):
    document = export_object_mapping(mapping)
    for row in document["attributeMappings"]:
        if row["targetAttributeName"] in ("Username", "Email"):
            row["source"]["expression"] = row["source"]["expression"].replace(".uat", ".qa")
    import_object_mapping(mapping, document)
    assert ObjectMapping.objects.get(pk=mapping.pk).sandbox_suffix == "qa"


def test_a_document_without_an_object_mapping_is_refused(mapping):
    with pytest.raises(MappingImportError, match="no objectMapping found"):
        import_object_mapping(mapping, {"hello": 1})


@pytest.mark.parametrize(
    "text",
    [
        'Join(", ", [surname], [givenName], "x")',
        'Switch([country], "Other", "US", "United States", "", "None")',
        'Coalesce([mail], [userPrincipalName], "")',
        'IIF([country] = "USA", "US", "Other")',
        'Replace([mail], , "(?<user>.*)@", "user", "${user}", , )',
        'InStr("repEated", "e", , vbBinaryCompare)',
        'Switch([Active], , "1", "True", "0", "False")',
        'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phone>\\\\d{10})", "phone", , [mobile], )',
    ],
)
def test_source_trees_convert_back_to_the_same_expression(text):
    tree = node_source(parse(text))
    assert unparse(source_node(tree, "here")) == unparse(parse(text))


def test_parameter_keys_follow_the_documented_names():
    assert parameter_keys("Mid", 3) == ["source", "start", "length"]
    assert parameter_keys("Join", 4) == ["separator", "source", "source", "source"]
    assert parameter_keys("Switch", 6) == ["source", "defaultValue", *["switchValue"] * 4]
    replace = parameter_keys("Replace", 7)
    assert (replace[2], replace[3], replace[5]) == (
        "RegularExpression",
        "RegularExpressionGroupName",
        "ReplacementPropertyName",
    )


def test_export_keeps_graphs_source_key_for_single_app_role_assignment(mapping):
    profile = _by_target(export_object_mapping(mapping))["ProfileName"]["source"]
    assert profile["parameters"] == [
        {
            "key": "source",
            "value": {
                "expression": "[appRoleAssignments]",
                "name": "appRoleAssignments",
                "parameters": [],
                "type": "Attribute",
            },
        }
    ]


SALESFORCE_SCHEMA = Path(__file__).parent.parent / "fixtures" / "graph" / "salesforce_schema.json"


def _canonical(object_mapping: dict) -> str:
    """The document as bytes, ignoring the order of keys and of attribute mappings."""
    rows = sorted(object_mapping["attributeMappings"], key=lambda r: r["targetAttributeName"])
    return json.dumps({**object_mapping, "attributeMappings": rows}, sort_keys=True)


def test_graphs_salesforce_synchronization_schema_imports_whole_and_round_trips_byte_for_byte(mapping, admin_user):
    """Graph's Salesforce schema, with the two additions Graph's tutorials make to it: a directory extension mapped
    to CommunityNickname, and a custom Salesforce field officeCode fed by extensionAttribute10."""
    schema = json.loads(SALESFORCE_SCHEMA.read_text())
    documented = schema["synchronizationRules"][0]["objectMappings"][0]
    import_object_mapping(mapping, copy.deepcopy(schema), actor=admin_user)
    imported = ObjectMapping.objects.get(pk=mapping.pk)
    assert imported.name == "Synchronize Azure Active Directory Users to salesforce.com"
    assert imported.attributes.count() == 16
    extension = SourceAttribute.objects.get(application=imported.application)
    assert (extension.name, extension.type, extension.origin) == (
        "extension_9d98asdfl15980a_Nickname",
        "String",
        "extension",
    )
    office = TargetAttribute.objects.get(application=imported.application, name="officeCode")
    assert office.manual and office.type == "string"
    assert (
        "added 1 source attribute(s) (extension_9d98asdfl15980a_Nickname) and 1 target attribute(s) (officeCode)"
        in (AuditEntry.objects.get(activity=AuditActivity.UPDATE_MAPPINGS).detail)
    )
    assert _canonical(export_object_mapping(imported)) == _canonical(documented)
    # The trees the console builds itself, for rows it did not import, are Graph's too.
    AttributeMapping.objects.filter(object_mapping=imported).update(graph_source=None)
    assert _canonical(export_object_mapping(imported)) == _canonical(documented)


def test_a_schema_attribute_of_a_wrong_type_is_refused_with_its_place(mapping):
    schema = json.loads(SALESFORCE_SCHEMA.read_text())
    schema["directories"][0]["objects"][0]["attributes"][2]["type"] = "Text"
    with pytest.raises(MappingImportError) as caught:
        import_object_mapping(mapping, schema)
    assert caught.value.errors[0].startswith(
        "directories[0].objects[0].attributes[2] (extension_9d98asdfl15980a_Nickname): type 'Text' is not one of"
    )
    assert not SourceAttribute.objects.exists()


def test_an_imported_source_tree_is_given_back_until_the_row_changes(mapping):
    document = export_object_mapping(mapping)
    alias = _by_target(document)["Alias"]
    alias["source"]["parameters"][1]["key"] = "startIndex"  # a key this console would not write
    alias["flowBehavior"] = "FlowAlways"
    alias["exportMissingReferences"] = True
    del document["metadata"]
    import_object_mapping(mapping, copy.deepcopy(document))
    again = export_object_mapping(ObjectMapping.objects.get(pk=mapping.pk))
    assert _canonical(again) == _canonical(document)
    assert "metadata" not in again
    row = AttributeMapping.objects.get(object_mapping=mapping, target_attribute="Alias")
    row.expression = "Mid([userPrincipalName], 1, 7)"
    row.save()
    edited = _by_target(export_object_mapping(ObjectMapping.objects.get(pk=mapping.pk)))["Alias"]["source"]
    assert [p["key"] for p in edited["parameters"]] == ["source", "start", "length"]
    assert edited["expression"] == "Mid([userPrincipalName], 1, 7)"


def test_a_new_mapping_exports_the_metadata_of_entras_salesforce_template(mapping):
    metadata = {m["key"]: m["value"] for m in export_object_mapping(mapping)["metadata"]}
    assert metadata["EscrowBehavior"] == '"Default"' and metadata["IsCustomerDefined"] == "false"


def test_a_scoping_filter_of_more_clauses_than_its_page_holds_is_refused(mapping):
    def clauses(count: int) -> list[dict]:
        return [
            {"operatorName": "EQUALS", "sourceOperandName": "department", "targetOperand": {"values": [f"D{i}"]}}
            for i in range(count)
        ]

    document = export_object_mapping(mapping)
    document["scope"] = {"groups": [{"clauses": clauses(100)}, {"clauses": clauses(101)}]}
    with pytest.raises(MappingImportError) as caught:
        import_object_mapping(mapping, document)
    assert caught.value.errors == ["scope.groups[1]: 101 clauses; a scoping filter holds at most 100"]
    document["scope"]["groups"].pop()
    import_object_mapping(mapping, document)
    assert ScopingClause.objects.filter(scoping_filter__object_mapping=mapping).count() == 100
