"""Every page carries a strict Content-Security-Policy, and no page holds what that policy would block: inline
scripts, style elements or attributes, event handler attributes, javascript: links (the browser tests then check
that nothing is blocked at run time, htmx included)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.views.test_every_view_guarded import PATTERNS, _url


class InlineParts(HTMLParser):
    """What a policy without 'unsafe-inline' blocks, as (tag, what) pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src") and attrs.get("type") not in ("application/json",):
            self.found.append((tag, "inline script"))
        if tag == "style":
            self.found.append((tag, "style element"))
        for name, value in attrs.items():
            if name == "style":
                self.found.append((tag, "style attribute"))
            elif name.startswith("on") or name.startswith("hx-on"):
                self.found.append((tag, f"{name} handler"))
            elif name in ("href", "action", "src") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append((tag, "javascript: URL"))


def inline_parts(html: str) -> list[tuple[str, str]]:
    parser = InlineParts()
    parser.feed(html)
    return parser.found


def test_the_checker_finds_what_the_policy_blocks():
    html = (
        '<script>x()</script><script src="/static/a.js"></script><style>p{}</style><p style="color:red">'
        '<form onsubmit="return confirm()"><a href="javascript:void(0)">x</a><div hx-on:click="x()">'
    )
    assert [what for _, what in inline_parts(html)] == [
        "inline script",
        "style element",
        "style attribute",
        "onsubmit handler",
        "javascript: URL",
        "hx-on:click handler",
    ]


GET_PAGES = [(name, params) for name, params in PATTERNS]


@pytest.mark.parametrize(("name", "params"), GET_PAGES, ids=[name for name, _ in GET_PAGES])
def test_every_page_is_served_under_a_strict_policy(admin_client, configured_application, name, params):
    response = admin_client.get(_url(name, params, configured_application))
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives.get("script-src") == "'self'" and directives.get("style-src") == "'self'", policy
    assert directives.get("default-src") == "'none'" and directives.get("frame-ancestors") == "'none'", policy
    if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
        assert inline_parts(response.content.decode()) == []


def test_the_sign_in_and_error_pages_have_no_inline_parts(client, admin_client):
    assert inline_parts(client.get("/login/").content.decode()) == []
    missing = admin_client.get("/apps/no-such-application/")
    assert missing.status_code == 404 and inline_parts(missing.content.decode()) == []
