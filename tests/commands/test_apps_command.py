"""manage.py apps: list, create from a file (secrets from the file or the environment), test-connection, export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import trustme
from django.core.management import call_command
from django.core.management.base import CommandError

from connections import connection_test
from connections.connection_test import TestResult
from connections.models import Application, SalesforceConnection
from console.models import AuditActivity, AuditEntry
from provisioning.applications import config_from_emulator_info

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ROOT = Path(__file__).resolve().parents[2]
CLIENT = "0d3b5c2e-1111-4a5b-9c8d-222233334444"
SP = "a1b2c3d4-5555-4666-8777-88889999aaaa"
SF_PASSWORD = "Pw-from-env-5e1f"
SF_TOKEN = "Tok-in-file-77aa"
ENTRA_SECRET = "Es-from-env-90bc"


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("apps", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def document(**overrides) -> dict:
    doc = {
        "name": "UAT sandbox",
        "provisioning_mode": "automatic",
        "salesforce": {
            "login_url": "https://acme--uat.sandbox.my.salesforce.com",
            "admin_username": "admin@acme.com.uat",
            "admin_password_env": "SF_PASSWORD",
            "security_token": SF_TOKEN,
        },
        "entra": {
            "tenant_id": TENANT,
            "client_id": CLIENT,
            "service_principal_id": SP,
            "client_secret_env": "ENTRA_SECRET",
        },
        "settings": {"notification_email": "ops@example.com", "notify_on_failure": True, "deletion_threshold": 20},
    }
    doc.update(overrides)
    return doc


@pytest.fixture
def secrets_env(monkeypatch):
    monkeypatch.setenv("SF_PASSWORD", SF_PASSWORD)
    monkeypatch.setenv("ENTRA_SECRET", ENTRA_SECRET)


def write(tmp_path, doc) -> str:
    path = tmp_path / "app.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_create_from_file_with_secrets_from_environment(db, tmp_path, secrets_env):
    out, _ = run("create", "--file", write(tmp_path, document()))
    assert "Created application 'UAT sandbox' (slug uat-sandbox)" in out
    app = Application.objects.get(slug="uat-sandbox")
    assert app.is_automatic
    assert app.user_mapping.sandbox_suffix == "uat"
    assert app.salesforce.login_url == "https://acme--uat.sandbox.my.salesforce.com"
    assert app.salesforce.secret("admin_password") == SF_PASSWORD
    assert app.salesforce.secret("security_token") == SF_TOKEN
    assert app.entra.secret("client_secret") == ENTRA_SECRET
    assert app.entra.is_configured and app.salesforce.is_configured
    assert app.job.notify_on_failure and app.job.deletion_threshold == 20
    entry = AuditEntry.objects.get(activity=AuditActivity.UPDATE_SETTINGS)
    assert entry.actor_name == "manage.py apps"
    assert "admin_password" in entry.changed_fields and "client_secret" in entry.changed_fields
    assert SF_PASSWORD not in json.dumps(entry.changed_fields) + entry.detail


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"entra": {"tenant_id": "contoso.onmicrosoft.com"}}, "entra.tenant_id: Enter a GUID"),
        ({"salesforce": {"login_url": "http://login.salesforce.com"}}, "salesforce.login_url: Enter an https://"),
        ({"salesforce": {"admin_username": "admin"}}, "salesforce.admin_username: Enter the Salesforce username"),
        (
            {"salesforce": {"admin_password_env": "NOT_SET_ANYWHERE"}},
            "environment variable NOT_SET_ANYWHERE is not set",
        ),
        ({"salesforce": {"admin_password": "x", "admin_password_env": "SF_PASSWORD"}}, "not both"),
        ({"salesforce": {"pasword": "x"}}, "salesforce.pasword: unknown key"),
        ({"settings": {"notification_email": "nobody"}}, "settings.notification_email: Not a valid email address"),
        ({"name": "x" * 101}, "application.name: Ensure this value has at most 100 characters"),
        ({"colour": "blue"}, "colour: unknown key"),
    ],
)
def test_invalid_documents_create_nothing(db, tmp_path, secrets_env, change, expected):
    doc = document()
    for key, value in change.items():
        doc[key] = {**doc[key], **value} if isinstance(doc.get(key), dict) else value
    with pytest.raises(CommandError, match="Nothing was created"):
        out, err = StringIO(), StringIO()
        try:
            call_command("apps", "create", "--file", write(tmp_path, doc), stdout=out, stderr=err)
        finally:
            assert expected in err.getvalue()
    assert not Application.objects.exists()
    assert not AuditEntry.objects.exists()


def test_every_problem_of_a_document_is_listed_in_one_run(db, tmp_path, secrets_env):
    doc = document()
    doc["salesforce"] = {**doc["salesforce"], "admin_password_env": "NOT_SET_ANYWHERE", "admin_username": ["a"]}
    doc["entra"] = {**doc["entra"], "tenant_id": "contoso", "client_secret_env": "NOT_SET_EITHER"}
    err = StringIO()
    with pytest.raises(CommandError, match="Nothing was created: 4 problem"):
        call_command("apps", "create", "--file", write(tmp_path, doc), stdout=StringIO(), stderr=err)
    problems = err.getvalue()
    assert "salesforce.admin_password_env: environment variable NOT_SET_ANYWHERE is not set" in problems
    assert "salesforce.admin_username: expected a single value, not a list or an object" in problems
    assert "entra.client_secret_env: environment variable NOT_SET_EITHER is not set" in problems
    assert "entra.tenant_id: Enter a GUID" in problems  # listed although the section had an env problem
    assert not Application.objects.exists()


def test_unreadable_or_broken_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run("create", "--file", str(tmp_path / "missing.json"))
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": ')
    with pytest.raises(CommandError, match="not valid JSON"):
        run("create", "--file", str(broken))


def test_secrets_are_not_accepted_on_the_command_line(db):
    with pytest.raises(CommandError):
        run("create", "--admin-password", "hunter2")


def test_list_shows_a_table(db, tmp_path, secrets_env):
    out, _ = run("list")
    assert out.strip() == "No applications."
    run("create", "--file", write(tmp_path, document()))
    run("create", "--file", write(tmp_path, {"name": "Dev sandbox"}))
    lines = run("list")[0].splitlines()
    assert lines[0].split() == ["SLUG", "NAME", "MODE", "STATUS", "SALESFORCE", "TEST", "ENTRA", "TEST"]
    assert lines[1].startswith("dev-sandbox") and "Manual" in lines[1] and "not tested" in lines[1]
    assert lines[2].startswith("uat-sandbox") and "Automatic" in lines[2] and "Off" in lines[2]
    rows = json.loads(run("list", "--json")[0])
    assert [row["slug"] for row in rows] == ["dev-sandbox", "uat-sandbox"]


def test_export_has_no_secret_but_says_which_are_set(db, tmp_path, secrets_env):
    run("create", "--file", write(tmp_path, document()))
    out, _ = run("export", "uat-sandbox")
    exported = json.loads(out)
    for secret in (SF_PASSWORD, SF_TOKEN, ENTRA_SECRET):
        assert secret not in out
    assert exported["salesforce"]["secrets_set"] == {
        "admin_password": True,
        "security_token": True,
        "consumer_secret": False,
    }
    assert exported["entra"]["tenant_id"] == TENANT
    assert exported["settings"]["deletion_threshold"] == 20

    # The export is a valid document again: renamed and with the secrets from the environment, it creates a copy.
    exported.update(name="UAT copy", slug="uat-copy")
    exported["salesforce"].update(admin_password_env="SF_PASSWORD")
    exported["entra"].update(client_secret_env="ENTRA_SECRET")
    run("create", "--file", write(tmp_path, exported))
    copy = Application.objects.get(slug="uat-copy")
    assert copy.entra.secret("client_secret") == ENTRA_SECRET
    assert not copy.salesforce.has_secret("security_token")


def test_export_of_unknown_application_names_the_known_ones(db, tmp_path, secrets_env):
    run("create", "--file", write(tmp_path, document()))
    with pytest.raises(CommandError, match="known: uat-sandbox"):
        run("export", "prod")


@pytest.fixture
def fake_tests(monkeypatch):
    outcomes = {"salesforce": (True, "Signed in."), "entra": (True, "Service principal read.")}

    def fake(connection):
        ok, message = outcomes["salesforce" if isinstance(connection, SalesforceConnection) else "entra"]
        connection.record_test(ok, message, 7)
        return TestResult(connection.SYSTEM, ok, message, 7, [])

    monkeypatch.setattr(connection_test, "test_connection", fake)
    return outcomes


def test_test_connection_succeeds_with_exit_code_zero(db, tmp_path, secrets_env, fake_tests):
    run("create", "--file", write(tmp_path, document()))
    out, _ = run("test-connection", "UAT sandbox")
    assert out.splitlines() == [
        "Salesforce: Succeeded (7 ms) - Signed in.",
        "Microsoft Entra ID: Succeeded (7 ms) - Service principal read.",
    ]
    assert AuditEntry.objects.filter(activity=AuditActivity.TEST_CONNECTION).count() == 2


def test_test_connection_failure_exits_one_with_the_button_message(db, tmp_path, secrets_env, fake_tests):
    run("create", "--file", write(tmp_path, document()))
    fake_tests["entra"] = (False, "AADSTS7000215: the client secret is wrong. Enter the secret's value, not its ID.")
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("apps", "test-connection", "uat-sandbox", "--entra", stdout=out)
    assert raised.value.returncode == 1
    assert out.getvalue().strip() == (
        "Microsoft Entra ID: Failed (7 ms) - AADSTS7000215: the client secret is wrong. "
        "Enter the secret's value, not its ID."
    )
    assert Application.objects.get(slug="uat-sandbox").entra.last_test_message.startswith("AADSTS7000215")


def test_test_connection_runs_the_real_check(db, tmp_path):
    # No stand-in: the real check refuses before any network call because fields are missing.
    run("create", "--file", write(tmp_path, {"name": "Dev sandbox"}))
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("apps", "test-connection", "dev-sandbox", "--salesforce", stdout=out)
    assert "Fill in Admin Username, Admin Password" in out.getvalue()


def test_create_from_emulator_info(db, tmp_path):
    bundle = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    info = {
        "salesforce": {
            "login_url": "https://127.0.0.1:8443",
            "instance_url": "https://127.0.0.1:8443",
            "username": "admin@emulator.example.com.uat",
            "password": "emu-password",
            "security_token": "emu-token",
            "org_id": "00D000000000001",
        },
        "entra": {
            "authority_host": "https://127.0.0.1:9443",
            "graph_url": "https://127.0.0.1:9443/v1.0",
            "tenant_id": TENANT,
            "client_id": CLIENT,
            "client_secret": "emu-secret",
            "service_principal_id": SP,
        },
        "ca_bundle": str(bundle),
        "control_url": "https://127.0.0.1:9444",
    }
    path = tmp_path / "info.json"
    path.write_text(json.dumps(info))
    run("create", "--from-emulators", str(path), "--name", "Emulated sandbox")
    app = Application.objects.get(slug="emulated-sandbox")
    assert app.salesforce.ca_bundle == str(bundle) == app.entra.ca_bundle
    assert app.salesforce.secret("security_token") == "emu-token"
    assert app.entra.graph_url == "https://127.0.0.1:9443/v1.0"
    assert config_from_emulator_info(info, "x")["provisioning_mode"] == "automatic"
    with pytest.raises(CommandError, match="needs --name"):
        run("create", "--from-emulators", str(path))


ACCESS = {
    "settings": {
        "profile_by_precedence": True,
        "revoke_on_deactivation": True,
        "freeze_leavers": "before",
        "sync_manager": True,
    },
    "items": [
        {"kind": "permission_set", "id": "0PS5g0000000001AAA", "name": "Sales_Console", "label": "Sales Console"},
        {"kind": "group", "id": "00G5g0000000001AAA", "name": "EMEA_Sales", "remove_unmanaged": True},
        {"kind": "role", "id": "00E5g0000000002AAA", "name": "Sales_Rep", "label": "Sales Rep"},
    ],
    "roles": [
        {
            "role": "Sales Representative",
            "precedence": 2,
            "salesforce_role": "00E5g0000000002AAA",
            "items": ["0PS5g0000000001AAA", "00G5g0000000001AAA"],
            "feature_licences": ["UserPermissionsMarketingUser"],
        }
    ],
}


def test_salesforce_access_round_trips_through_export_and_create(db, tmp_path, secrets_env):
    run("create", "--file", write(tmp_path, document(salesforce_access=ACCESS)))
    exported = json.loads(run("export", "uat-sandbox")[0])
    access = exported["salesforce_access"]
    assert access["settings"] == ACCESS["settings"]
    (role,) = access["roles"]
    assert (
        role["items"] == ["00G5g0000000001AAA", "0PS5g0000000001AAA"]
        and role["salesforce_role"] == "00E5g0000000002AAA"
    )
    assert role["feature_licences"] == ["UserPermissionsMarketingUser"] and role["precedence"] == 2
    assert {i["name"]: i["remove_unmanaged"] for i in access["items"]}["EMEA_Sales"] is True
    assert AuditEntry.objects.filter(activity=AuditActivity.UPDATE_ACCESS).exists()
    exported.update(name="UAT copy", slug="uat-copy")
    exported["salesforce"].update(admin_password_env="SF_PASSWORD")
    exported["entra"].update(client_secret_env="ENTRA_SECRET")
    run("create", "--file", write(tmp_path, exported))
    copied = json.loads(run("export", "uat-copy")[0])["salesforce_access"]
    assert copied == access


def test_salesforce_access_problems_are_all_listed_and_nothing_is_created(db, tmp_path, secrets_env):
    broken = {
        "settings": {"freeze_leavers": "sometimes"},
        "items": [{"kind": "badge", "id": "x", "name": ""}],
        "roles": [{"role": "Sales", "items": ["0PS000000000000"], "feature_licences": ["UserPermissionsFlying"]}],
    }
    err = StringIO()
    with pytest.raises(CommandError, match="Nothing was created: 6 problem"):
        call_command(
            "apps",
            "create",
            "--file",
            write(tmp_path, document(salesforce_access=broken)),
            stdout=StringIO(),
            stderr=err,
        )
    for expected in (
        "freeze_leavers",
        "items[0].kind",
        "items[0].id",
        "items[0].name",
        "not one of",
        "UserPermissionsFlying",
    ):
        assert expected in err.getvalue()
    assert not Application.objects.exists()


def test_a_deeply_nested_file_is_refused_before_it_is_parsed(db, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"name": "Deep", "settings": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(CommandError, match=r"nests arrays and objects 100,001 levels deep; at most 200 levels"):
        run("create", "--file", str(deep))
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    err = StringIO()
    with pytest.raises(CommandError, match="Nothing was created: 1 problem"):
        call_command("apps", "create", "--file", str(listed), "--name", "Renamed", stdout=StringIO(), stderr=err)
    assert "the document must be a JSON object" in err.getvalue()
    assert not Application.objects.exists()


def test_the_command_line_shows_the_limit_and_no_traceback(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 50_000)
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", CONSOLE_LOCAL_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "apps", "create", "--file", str(deep)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "nests arrays and objects 50,000 levels deep; at most 200 levels are read" in result.stderr
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr


def test_an_application_created_meanwhile_by_someone_else_is_a_clear_error(db, tmp_path, secrets_env, monkeypatch):
    """Two `apps create` of one name at once: the check passes for both, the database refuses the second."""
    from provisioning import applications

    real = applications.create_application

    def raced(name, **kwargs):
        real(name, suffix="other")  # the other command's application lands between the check and the insert
        return real(name, **kwargs)

    monkeypatch.setattr(applications, "create_application", raced)
    err = StringIO()
    with pytest.raises(CommandError, match="Nothing was created: 1 problem"):
        call_command("apps", "create", "--file", write(tmp_path, document()), stdout=StringIO(), stderr=err)
    assert "'UAT sandbox' (or its address) was created meanwhile; nothing was created" in err.getvalue()
