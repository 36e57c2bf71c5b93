"""Every URL the console serves, found from the URL configuration rather than listed by hand, is guarded:
anonymous visitors are sent to sign in, users without a role are refused, and a Reports Reader changes nothing.
A view added later without its decorator fails here even if nobody remembers to add it to a permission test."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from console.models import AuditEntry
from mappings.models import OrgAccessItem, ScopingFilter

PUBLIC = {"login", "logout", "healthz", "entra_signin", "entra_callback", "metrics"}
# The start page only redirects to the Applications list, which is guarded.
REDIRECTS = {"home"}
# Values for the URL parameters of the blade's pages.
ARGUMENTS = {"pk": 1, "action": "sync-now", "system": "salesforce", "change_id": "0" * 32, "assignment_id": "a1"}
# POSTs a Reports Reader may make: they evaluate or read and store nothing, or they manage the reader's own API
# tokens (tests/api/test_tokens.py: a reader holds read tokens only and revokes only their own).
READER_MAY_POST = {"expression_test", "api_tokens", "api_token_revoke"}


def _named_patterns(resolver: URLResolver | None = None, namespace: str = "") -> list[tuple[str, list[str]]]:
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in ("admin", "api"):
                continue  # Django's admin has its own staff check; the API its bearer tokens (tests/api)
            found.extend(_named_patterns(entry, entry.namespace or namespace))
        elif isinstance(entry, URLPattern) and entry.name and entry.name not in PUBLIC:
            found.append((entry.name, list(entry.pattern.converters)))
    return found


PATTERNS = _named_patterns()


def _url(name: str, params: list[str], application) -> str:
    """The URL of `name` for `application`, with real objects behind its primary keys."""
    values = dict(ARGUMENTS, slug=application.slug)
    if name.startswith("scoping_filter_"):
        mapping = application.user_mapping
        values["pk"] = ScopingFilter.objects.get_or_create(object_mapping=mapping, title="Sales")[0].pk
    elif name.startswith("attribute_mapping_"):
        values["pk"] = application.user_mapping.attributes.get(target_attribute="FirstName").pk
    elif name.startswith("access_item_"):
        item = {"kind": "permission_set", "salesforce_id": "0PS5g0000000001AAA", "name": "Sales_Console"}
        values["pk"] = OrgAccessItem.objects.get_or_create(application=application, **item)[0].pk
    return reverse(name, kwargs={p: values[p] for p in params})


def test_the_whole_blade_is_covered():
    names = {name for name, _ in PATTERNS}
    assert {"applications", "provisioning", "mapping_editor", "users_and_groups", "provision_on_demand"} <= names
    assert {"provisioning_logs", "audit_logs", "test_connection", "save_salesforce_credentials"} <= names


@pytest.mark.parametrize(("name", "params"), PATTERNS, ids=[name for name, _ in PATTERNS])
def test_anonymous_get_and_post_are_sent_to_sign_in(client, application, name, params):
    url = _url(name, params, application)
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


@pytest.mark.parametrize(("name", "params"), PATTERNS, ids=[name for name, _ in PATTERNS])
def test_user_without_a_role_is_refused(client, roleless_user, application, name, params):
    client.force_login(roleless_user)
    url = _url(name, params, application)
    audited = AuditEntry.objects.count()
    for response in (client.get(url), client.post(url)):
        if name in REDIRECTS:
            assert response.status_code == 302 and response.url == reverse("applications")
        else:
            assert response.status_code in (403, 405), url
    assert AuditEntry.objects.count() == audited


@pytest.mark.parametrize(
    ("name", "params"),
    [p for p in PATTERNS if p[0] not in READER_MAY_POST],
    ids=[name for name, _ in PATTERNS if name not in READER_MAY_POST],
)
def test_reader_cannot_change_anything(reader_client, application, name, params):
    url = _url(name, params, application)
    audited = AuditEntry.objects.count()
    response = reader_client.post(url)
    if name in REDIRECTS:
        assert response.status_code == 302 and response.url == reverse("applications")
    else:
        assert response.status_code in (403, 405), url
    assert AuditEntry.objects.count() == audited
