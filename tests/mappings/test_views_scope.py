"""Source object scope: scoping filters saved, refused (invalid regex, non-integer), edited and deleted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.models import AuditActivity, AuditEntry
from mappings.compiled import compile_mapping
from mappings.models import ObjectMapping, ScopingClause, ScopingFilter
from tests.conftest import current_version

pytestmark = pytest.mark.django_db


def _data(title: str, clauses: list[tuple[str, str, str]], initial: int = 0, ids=(), version: str = "") -> dict:
    data = {
        "filter-title": title,
        "filter-edit_version": version,
        "clauses-TOTAL_FORMS": str(len(clauses)),
        "clauses-INITIAL_FORMS": str(initial),
        "clauses-MIN_NUM_FORMS": "0",
        "clauses-MAX_NUM_FORMS": "1000",
    }
    for i, (attribute, operator, value) in enumerate(clauses):
        data.update(
            {f"clauses-{i}-attribute": attribute, f"clauses-{i}-operator": operator, f"clauses-{i}-value": value}
        )
        if i < len(ids):
            data[f"clauses-{i}-id"] = str(ids[i])
    return data


def _mapping(application) -> ObjectMapping:
    return ObjectMapping.objects.get(application=application)


def test_adding_a_filter_with_two_clauses_scopes_users(admin_client, application):
    url = reverse("scoping_filter_add", args=[application.slug])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        _data("Sales in Seattle", [("department", "EQUALS", "Sales"), ("city", "REGEX MATCH", "^Sea"), ("", "", "")]),
    )
    assert response.status_code == 302
    scoping_filter = ScopingFilter.objects.get(title="Sales in Seattle")
    assert [str(c) for c in scoping_filter.clauses.all()] == ["department EQUALS Sales", "city REGEX MATCH ^Sea"]
    mapping = _mapping(application)
    assert mapping.version == 2
    assert AuditEntry.objects.get(activity=AuditActivity.UPDATE_MAPPINGS).changed_fields == ["scope"]
    compiled = compile_mapping(mapping)
    assert compiled.scope({"department": "Sales", "city": "Seattle"}).in_scope
    assert not compiled.scope({"department": "Sales", "city": "London"}).in_scope
    editor = admin_client.get(reverse("mapping_editor", args=[application.slug])).content.decode()
    assert "<code>department EQUALS Sales</code> AND <code>city REGEX MATCH ^Sea</code>" in editor


@pytest.mark.parametrize(
    ("clause", "message"),
    [
        (("employeeId", "Greater_Than", "ten"), "compares whole numbers"),
        (("appRoleAssignments", "EQUALS", "x"), "cannot be used in a scoping filter"),
        (("department", "EQUALS", ""), "EQUALS needs a value"),
        (("departmnet", "EQUALS", "Sales"), "unknown attribute departmnet: did you mean department?"),
        (("costCentre", "EQUALS", "1"), "unknown attribute costCentre; add it to the list first"),
        (("proxyAddresses", "EQUALS", "1"), "proxyAddresses is multi-valued, which scoping filters do not support"),
    ],
)
def test_invalid_clauses_are_refused_with_the_reason(admin_client, application, clause, message):
    response = admin_client.post(reverse("scoping_filter_add", args=[application.slug]), _data("Bad", [clause]))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ScopingFilter.objects.exists()
    assert _mapping(application).version == 1


def test_an_invalid_regex_message_is_shown(admin_client, application):
    response = admin_client.post(
        reverse("scoping_filter_add", args=[application.slug]), _data("Bad", [("mail", "REGEX MATCH", "(unclosed")])
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "invalid regular expression &#x27;(unclosed&#x27;: missing )" in html


def test_a_filter_needs_a_clause(admin_client, application):
    response = admin_client.post(reverse("scoping_filter_add", args=[application.slug]), _data("Empty", [("", "", "")]))
    assert response.status_code == 400
    assert "at least one clause" in response.content.decode()


def test_unary_operators_need_no_value(admin_client, application):
    response = admin_client.post(
        reverse("scoping_filter_add", args=[application.slug]), _data("Has mail", [("mail", "IS NOT NULL", "ignored")])
    )
    assert response.status_code == 302
    assert ScopingClause.objects.get().value == ""


def test_editing_and_deleting_a_filter(admin_client, application):
    mapping = _mapping(application)
    scoping_filter = ScopingFilter.objects.create(object_mapping=mapping, title="Sales")
    clause = ScopingClause.objects.create(
        scoping_filter=scoping_filter, attribute="department", operator="EQUALS", value="Sales"
    )
    url = reverse("scoping_filter_edit", args=[application.slug, scoping_filter.pk])
    version = current_version(scoping_filter)
    data = _data("Marketing", [("department", "EQUALS", "Marketing")], initial=1, ids=[clause.pk], version=version)
    assert admin_client.post(url, data).status_code == 302
    assert [str(c) for c in ScopingFilter.objects.get().clauses.all()] == ["department EQUALS Marketing"]
    delete = reverse("scoping_filter_delete", args=[application.slug, scoping_filter.pk])
    assert admin_client.post(delete, {"edit_version": current_version(scoping_filter)}).status_code == 302
    assert not ScopingFilter.objects.exists()
    assert _mapping(application).version == 3


def test_a_post_announcing_100000_clauses_is_refused_before_any_form_is_built(admin_client, application, monkeypatch):
    from mappings.forms import ScopingClauseForm

    built = []
    original = ScopingClauseForm.__init__

    def counting(self, *args, **kwargs):
        built.append(kwargs.get("prefix"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(ScopingClauseForm, "__init__", counting)
    data = _data("Everyone", [("department", "EQUALS", "Sales")])
    data["clauses-TOTAL_FORMS"] = "100000"
    response = admin_client.post(reverse("scoping_filter_add", args=[application.slug]), data)
    assert response.status_code == 400
    assert "A scoping filter holds at most 100 clauses: nothing was saved." in response.content.decode()
    # Only the page's own forms were built for showing it again (the empty filter's 2 blank rows and the help row).
    assert all(prefix in ("clauses-0", "clauses-1", "clauses-__prefix__") for prefix in built), built[:5]
    assert not ScopingFilter.objects.exists()


def test_100000_clauses_posted_in_full_get_the_request_limit_page(admin_client, application):
    data = _data("Everyone", [("department", "EQUALS", f"D{i}") for i in range(100_000)])
    response = admin_client.post(reverse("scoping_filter_add", args=[application.slug]), data)
    assert response.status_code == 413
    assert "The form you sent has too many fields" in response.content.decode()
    assert "at most 1,000 fields" in response.content.decode()
    assert not ScopingFilter.objects.exists()


def test_a_filter_of_101_clauses_is_refused_and_100_are_saved(admin_client, application):
    url = reverse("scoping_filter_add", args=[application.slug])
    refused = admin_client.post(url, _data("Long", [("department", "EQUALS", f"D{i}") for i in range(101)]))
    assert refused.status_code == 400
    assert "at most 100 clauses" in refused.content.decode()
    saved = admin_client.post(url, _data("Long", [("department", "EQUALS", f"D{i}") for i in range(100)]))
    assert saved.status_code == 302
    assert ScopingClause.objects.filter(scoping_filter__title="Long").count() == 100
