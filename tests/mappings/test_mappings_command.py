"""manage.py mappings: export, import and test from the command line, with exit codes."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mappings.changes import record_mapping_change
from mappings.models import AttributeMapping, ObjectMapping

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("mappings", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_export_prints_the_object_mapping(application):
    document = json.loads(_run("export", application.slug))
    assert document["flowTypes"] == "Add, Update, Delete"
    assert {m["targetAttributeName"] for m in document["attributeMappings"]} >= {"Username", "ProfileName"}


def test_export_then_import_from_a_file(application, tmp_path):
    path = tmp_path / "mapping.json"
    _run("export", "UAT sandbox", "--output", str(path))
    document = json.loads(path.read_text())
    for row in document["attributeMappings"]:
        if row["targetAttributeName"] == "FirstName":
            row["source"] = {
                "expression": "[displayName]",
                "name": "displayName",
                "parameters": [],
                "type": "Attribute",
            }
    path.write_text(json.dumps(document))
    assert "Imported 14 attribute mappings" in _run("import", application.slug, str(path))
    row = AttributeMapping.objects.get(object_mapping__application=application, target_attribute="FirstName")
    assert row.source_attribute == "displayName"
    assert ObjectMapping.objects.get(application=application).version == 2


def test_a_bad_import_fails_with_the_place_and_changes_nothing(application, tmp_path):
    document = json.loads(_run("export", application.slug))
    index = [m["targetAttributeName"] for m in document["attributeMappings"]].index("Alias")
    document["attributeMappings"][index]["source"]["expression"] = "Mid([userPrincipalName], 1)"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    err = StringIO()
    with pytest.raises(CommandError, match="Nothing was imported: 1 problem"):
        call_command("mappings", "import", application.slug, str(path), stdout=StringIO(), stderr=err)
    assert f"attributeMappings[{index}] (target Alias): Mid expects 3 arguments, got 2 (column 1)" in err.getvalue()
    assert ObjectMapping.objects.get(application=application).version == 1


def test_test_with_a_sample(application):
    out = _run("test", application.slug, "--expression", 'Append([userPrincipalName], ".uat")', "--sample",
               '{"userPrincipalName": "john@contoso.com"}')  # fmt: skip
    assert out.strip().endswith("john@contoso.com.uat")
    assert '[userPrincipalName] = "john@contoso.com"' in out


def test_test_reports_an_evaluation_error(application):
    with pytest.raises(CommandError, match="Item index is 1-based; 0 is not a valid index"):
        _run("test", application.slug, "--expression", "Item([proxyAddresses], 0)", "--sample",
             '{"proxyAddresses": ["SMTP:john@contoso.com"]}')  # fmt: skip


def test_unknown_application_is_an_error(db):
    with pytest.raises(CommandError, match="No application 'nope'"):
        _run("export", "nope")


def test_failures_exit_with_code_1(application):
    with pytest.raises(CommandError) as caught:
        _run("test", application.slug, "--expression", "Mid([mail], 1)", "--sample", "{}")
    assert caught.value.returncode == 1
    assert "Mid expects 3 arguments, got 2 (column 1)" in str(caught.value)


def test_test_looks_up_the_tenants_default_domain_and_salesforces_values(live_app):
    out = _run("test", live_app.slug, "--expression", 'Join("@", [mailNickname], DefaultDomain())', "--sample",
               '{"mailNickname": "jdoe"}')  # fmt: skip
    assert out.strip().endswith("jdoe@contoso.com")
    unique = 'SelectUniqueValue([mailNickname], Append([mailNickname], "2"))'
    sample = '{"mailNickname": "integration.admin"}'  # the seeded Salesforce admin's nickname
    out = _run("test", live_app.slug, "--expression", unique, "--sample", sample, "--target", "CommunityNickname")
    assert out.strip().endswith("integration.admin2")
    with pytest.raises(CommandError, match="no target attribute to look them up in"):
        _run("test", live_app.slug, "--expression", unique, "--sample", sample)


def test_a_deeply_nested_import_is_refused_with_its_limit(application, tmp_path):
    document = json.loads(_run("export", application.slug))
    text = json.dumps(document)
    path = tmp_path / "deep.json"
    path.write_text(text[:-1] + ', "x": ' + "[" * 10_000 + "]" * 10_000 + "}")
    with pytest.raises(CommandError, match="nests arrays and objects 10,001 levels deep; at most 200 levels"):
        _run("import", application.slug, str(path))
    with pytest.raises(CommandError, match="The sample nests arrays and objects"):
        _run("test", application.slug, "--expression", "[mail]", "--sample", "[" * 5_000)
    assert ObjectMapping.objects.get(application=application).version == 1


def test_an_import_expecting_an_older_version_is_refused_and_names_the_change(application, tmp_path, admin_user):
    path = tmp_path / "mapping.json"
    err = StringIO()
    call_command("mappings", "export", application.slug, "--output", str(path), stdout=StringIO(), stderr=err)
    assert "Mapping version 1 (import --expect-version 1" in err.getvalue()
    mapping = ObjectMapping.objects.get(application=application)
    record_mapping_change(mapping, actor=admin_user, changed_fields=["Alias.expression"], detail="Edited Alias")
    err = StringIO()
    with pytest.raises(CommandError, match="the mapping is at version 2, not 1; it changed since"):
        call_command("mappings", "import", application.slug, str(path), "--expect-version", "1", stderr=err)
    assert "alice.admin: Edited Alias" in err.getvalue()
    assert "Imported" in _run("import", application.slug, str(path), "--expect-version", "2")
