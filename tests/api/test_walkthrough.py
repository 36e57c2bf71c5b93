"""The README's API walkthrough, run as written: its shell block is read from README.md and executed with bash and
curl against a live server, the emulators and a real manage.py process, so that the README cannot drift."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from console.permissions import APPLICATION_ADMINISTRATOR, REPORTS_READER
from provisioning.applications import point_at_emulators
from provisioning.models import ProvisioningJob, ProvisioningLogEntry
from tests.engine.cluster import database_url
from tests.operations.conftest import plain_assigned_users, sf_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- api-walkthrough -->\s*```sh\n(.*?)```", re.S)


def walkthrough() -> str:
    found = BLOCK.search((ROOT / "README.md").read_text())
    assert found, "README.md has the API walkthrough block (<!-- api-walkthrough --> then ```sh)"
    return found.group(1)


def test_the_readme_walkthrough_is_one_shell_block_with_curl():
    script = walkthrough()
    assert script.count("curl ") >= 4 and "api_tokens create" in script


@pytest.mark.skipif(
    shutil.which("curl") is None, reason="curl is not installed (scripts/ci-system-deps.sh installs it)"
)
def test_the_readme_walkthrough_runs_as_written(live_server, application, emulator_state_reset, tmp_path):
    for name in (APPLICATION_ADMINISTRATOR, REPORTS_READER):
        Group.objects.get_or_create(name=name)
    admin = User.objects.create_user("admin", password="unused-here")  # the demo's administrator
    admin.groups.add(Group.objects.get(name=APPLICATION_ADMINISTRATOR))
    emu = emulator_state_reset
    point_at_emulators(application, emu.info)
    user = plain_assigned_users(emu)[0]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "VENV": str(Path(sys.executable).parent.parent),
        "CONSOLE": live_server.url,
        "APP": application.slug,
        "USER_ID": user["id"],
    }
    script = tmp_path / "walkthrough.sh"
    script.write_text("set -euo pipefail\n" + walkthrough())
    done = subprocess.run(["bash", str(script)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    job = ProvisioningJob.objects.get(pk=application.job.pk)
    assert job.enabled and job.cycles.exists()  # started: the first cycle ran
    assert sf_user(emu, user["userPrincipalName"]) is not None  # provisioned
    listed = json.loads(done.stdout.strip().splitlines()[-1])  # the last step prints the log page
    entries = ProvisioningLogEntry.objects.filter(job=job, source_id=user["id"])
    assert listed["value"] and {e["changeId"] for e in listed["value"]} <= set(
        entries.values_list("change_id", flat=True)
    )
    assert all(e["sourceIdentity"]["id"] == user["id"] for e in listed["value"])
