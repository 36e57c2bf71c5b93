"""The real stack for the browser tests: Chromium (Debian's, through Playwright), the live server, a qcluster
process sharing the test database, the emulators and an SMTP server.

Screenshots of the main pages go to $E2E_SCREENSHOT_DIR (default: a directory under pytest's temporary path).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django_q.conf import Conf
from playwright.sync_api import expect

from console.permissions import APPLICATION_ADMINISTRATOR, ROLES
from tests.e2e.a11y import watch_policy
from tests.engine.cluster import Cluster

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 860}  # a laptop screen


@pytest.fixture(scope="module")
def _orm_beside_playwright():
    """Playwright's sync API runs an event loop on this thread while it is started; the tests' own ORM calls (and
    the database flush after each test) are synchronous all the same. Only for the modules that use the browser,
    and ending after it: a loop left running would make Django refuse the ORM in every later test.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(_orm_beside_playwright):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; scripts/ci-system-deps.sh does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A page of the live server. Whatever the Content-Security-Policy blocks on any page it shows fails the test:
    check_page() looks at the violations of the current page, and the console messages of every page are checked
    at the end."""
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(15_000)
    watch_policy(context)
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    try:
        yield page
    finally:
        context.close()
    assert not blocked, f"the Content-Security-Policy blocked: {blocked}"


E2E_PASSWORD = "e2e-correct-horse-battery"


@pytest.fixture
def signed_in(page):
    """The page, signed in as an Application Administrator."""
    for role in ROLES:  # transactional tests flush the groups the migrations created
        Group.objects.get_or_create(name=role)
    user = User.objects.create_user("cleo.admin", "cleo@example.com", E2E_PASSWORD)
    user.groups.add(Group.objects.get(name=APPLICATION_ADMINISTRATOR))
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(E2E_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Applications")
    return page


class Screenshots:
    """Full-page PNGs named by step, for the README (docs/screenshots/) and for looking at a failed run."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.taken: list[Path] = []

    def __call__(self, page, name: str, *, show=None, full_page: bool = False) -> Path:
        """The viewport (a laptop screen) with `show` (a locator) scrolled into view, or the whole page."""
        path = self.directory / f"{name}.png"
        if show is not None:
            show.evaluate("el => el.scrollIntoView({block: 'center'})")
        page.screenshot(path=str(path), full_page=full_page)
        self.taken.append(path)
        return path


@pytest.fixture
def screenshots(tmp_path_factory) -> Screenshots:
    configured = os.environ.get("E2E_SCREENSHOT_DIR")
    directory = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return Screenshots(directory)


class E2ECluster(Cluster):
    """tests.engine.cluster.Cluster with mail over SMTP and a stop that signals only the sentinel.

    A SIGTERM to the whole process group reaches the workers too, and the sentinel then waits for them in vain.
    """

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                pass
        if self.process:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait(10)


@pytest.fixture
def cluster(smtp_server, monkeypatch) -> Iterator[E2ECluster]:
    """A running qcluster sending mail to the test SMTP server; the live server enqueues to it.

    It keeps the default queue name: django-q2 runs schedules without a cluster (those that Provisioning
    Status On creates) only on the default cluster. The ORM broker lives in this run's own test database.
    """
    monkeypatch.setattr(Conf, "SYNC", False)
    running = E2ECluster(cluster_name=Conf.PREFIX)
    running.env.update(
        DJANGO_SETTINGS_MODULE="tests.e2e.cluster_settings",
        EMAIL_HOST=smtp_server.host,
        EMAIL_PORT=str(smtp_server.port),
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()
