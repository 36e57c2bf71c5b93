"""Every page has a title and a label for every form control; the vendored htmx is served locally."""

from __future__ import annotations

from html.parser import HTMLParser

from django.contrib.staticfiles import finders
from django.urls import reverse

from .test_permissions import ADMIN_PAGES, PAGES, url


class ControlsAndLabels(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.open_labels = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.controls.append({**attrs, "_wrapped": self.open_labels > 0})
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def unlabelled(html: str) -> tuple[str, list[str]]:
    parser = ControlsAndLabels()
    parser.feed(html)
    missing = [c.get("name", "?") for c in parser.controls if not c["_wrapped"] and c.get("id") not in parser.label_for]
    return parser.title.strip(), missing


def test_every_page_has_a_title_and_labelled_controls(client, admin_user, reader_user, configured_application):
    pages = [(name, args) for name, args in PAGES + ADMIN_PAGES]
    for user in (admin_user, reader_user):
        client.force_login(user)
        for name, args in pages:
            response = client.get(url(name, args, configured_application))
            if response.status_code != 200:
                continue
            title, missing = unlabelled(response.content.decode())
            assert title, name
            assert missing == [], (name, missing)
    client.logout()
    title, missing = unlabelled(client.get(reverse("login")).content.decode())
    assert title.startswith("Sign in") and missing == []


def test_invalid_form_pages_keep_labels(admin_client, configured_application):
    response = admin_client.post(
        reverse("save_settings", args=[configured_application.slug]), {"settings-deletion_threshold": "x"}
    )
    assert response.status_code == 400
    assert unlabelled(response.content.decode())[1] == []
    assert 'aria-invalid="true"' in response.content.decode()


def test_htmx_is_vendored():
    path = finders.find("vendor/htmx.min.js")
    assert path, "static/vendor/htmx.min.js is missing"
    with open(path) as handle:
        assert "htmx" in handle.read(2000)
