"""`manage.py demo` (what ./run-console runs): its data helpers, and the real command with its child processes."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from connections.models import ProvisioningMode
from console.permissions import APPLICATION_ADMINISTRATOR, ROLES
from mappings.access.models import AppRoleAccess
from provisioning.demo import DEMO_APP_NAME, ensure_demo_admin, ensure_demo_application
from provisioning.models import ProvisionedLink

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def roles(db):
    for role in ROLES:  # a transactional test before this one may have flushed the migrations' groups
        Group.objects.get_or_create(name=role)


def test_the_demo_administrator_gets_a_private_password_that_survives_restarts(roles, tmp_path):
    first = ensure_demo_admin(tmp_path)
    assert first.created and first.username == "admin" and len(first.password) >= 16
    assert stat.S_IMODE(first.password_file.stat().st_mode) == 0o600
    user = User.objects.get(username="admin")
    assert user.check_password(first.password)
    assert user.groups.filter(name=APPLICATION_ADMINISTRATOR).exists()

    again = ensure_demo_admin(tmp_path)
    assert not again.created and again.password == first.password

    first.password_file.unlink()  # a forgotten password: delete the file, start again
    renewed = ensure_demo_admin(tmp_path)
    assert renewed.created and renewed.password != first.password
    user.refresh_from_db()
    assert user.check_password(renewed.password) and not user.check_password(first.password)


def test_the_demo_application_follows_the_emulators_and_starts_afresh(roles, emulators):
    info = emulators.info
    application, created = ensure_demo_application(info)
    assert created and application.name == DEMO_APP_NAME
    assert application.provisioning_mode == ProvisioningMode.AUTOMATIC and not application.job.enabled
    assert application.user_mapping.sandbox_suffix == "uat"
    assert application.salesforce.is_configured and application.entra.is_configured
    assert application.salesforce.secret("security_token") == info["salesforce"]["security_token"]
    # The demo tenant's app roles give Salesforce access beyond the profile, from the emulated org's catalogue
    sales = AppRoleAccess.objects.get(application=application, role_value="Sales Representative")
    assert sales.user_role.name == "Sales_Rep"
    assert {i.name for i in sales.items.all()} == {"Sales_Team", "EMEA_Sales"}
    marketing = AppRoleAccess.objects.get(application=application, role_value="Marketing User")
    assert marketing.items.get().licence_id  # a permission set that brings its licence

    # The next start: new ports and CA; the emulated sandbox is empty again, so the links go.
    ProvisionedLink.objects.create(job=application.job, source_id="u1", target_id="005000000000001AAA")
    job = application.job
    job.watermark, job.needs_initial_cycle = "https://graph/delta?token=x", False
    job.save()
    moved = {**info, "ca_bundle": "/tmp/new-ca.pem"}
    moved["salesforce"] = {**info["salesforce"], "login_url": "https://127.0.0.1:1/"}
    again, created = ensure_demo_application(moved)
    assert not created and again.pk == application.pk
    again.salesforce.refresh_from_db()
    assert again.salesforce.login_url == "https://127.0.0.1:1/" and again.salesforce.ca_bundle == "/tmp/new-ca.pem"
    job.refresh_from_db()
    assert job.watermark == "" and job.needs_initial_cycle
    assert not ProvisionedLink.objects.filter(job=job).exists()


# --- the real command ------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _demo_env(local_dir: Path) -> dict[str, str]:
    """A newcomer's environment: development mode, the embedded defaults, state in `local_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "Q_", "EMAIL_", "TEST_"))}
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "REDIS_URL", "DATABASE_URL", "CONSOLE_LOCAL_DIR"):
        env.pop(name, None)
    env.update(DEBUG="true", CONSOLE_LOCAL_DIR=str(local_dir), DJANGO_SETTINGS_MODULE="console.settings")
    return env


def _processes_of(local_dir: Path) -> list[int]:
    """Processes whose environment names `local_dir`: the demo's children, if any outlived it."""
    marker = f"CONSOLE_LOCAL_DIR={local_dir}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


@pytest.mark.integration
def test_the_demo_runs_a_cycle_stops_cleanly_on_ctrl_c_and_keeps_its_data(tmp_path):
    env, port = _demo_env(tmp_path), _free_port()
    command = [sys.executable, "manage.py", "demo", "--seed", "30", "--port", str(port)]

    # First start: migrate, create the demo data, run one cycle through the real worker, stop.
    began = time.monotonic()
    first = subprocess.run([*command, "--check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Application  Demo sandbox (created)" in first.stdout
    password = re.search(r"Password     (\S+)", first.stdout).group(1)
    assert f"password: {password}" in (tmp_path / "demo-admin.txt").read_text()
    assert re.search(r"Initial cycle (Succeeded|Completed with errors) \(created [1-9]", first.stdout), first.stdout
    assert _processes_of(tmp_path) == []
    print(f"demo --check from an empty directory to a finished cycle: {time.monotonic() - began:.1f}s")

    # Second start, stopped with Ctrl-C (SIGINT to the foreground process group, as a terminal sends it).
    demo = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output = ""
        deadline = time.monotonic() + 120
        while "Press Ctrl-C to stop." not in output:
            line = demo.stdout.readline()
            assert line or demo.poll() is None, f"the demo stopped:\n{output}"
            output += line
            assert time.monotonic() < deadline, f"the demo did not start:\n{output}"
        assert "pointed at the new emulators" in output
        assert password not in output and f"(in {tmp_path / 'demo-admin.txt'})" in output
        children = [pid for pid in _processes_of(tmp_path) if pid != demo.pid]
        assert len(children) >= 3  # emulators, qcluster (and its workers), web server
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        assert "Sign in with Microsoft (the emulated tenant)" in output and "console.reader@" in output
        sign_in_page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=10).read().decode()  # noqa: S310
        assert "Sign in with Microsoft" in sign_in_page
        os.killpg(demo.pid, signal.SIGINT)
        rest, _ = demo.communicate(timeout=40)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    assert demo.returncode == 0, output + rest
    assert "Stopped. The data stays in" in rest
    assert _processes_of(tmp_path) == []
