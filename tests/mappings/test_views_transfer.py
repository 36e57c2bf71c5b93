"""Import mappings page and the Test expression page (sample users, htmx partial)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from mappings.graph_json import export_object_mapping
from mappings.models import AttributeMapping, ObjectMapping

pytestmark = pytest.mark.django_db


def _document(application) -> dict:
    return export_object_mapping(ObjectMapping.objects.get(application=application))


def test_importing_an_uploaded_file(admin_client, application):
    document = _document(application)
    for row in document["attributeMappings"]:
        if row["targetAttributeName"] == "LastName":
            row["defaultValue"] = "Unknown"
    upload = SimpleUploadedFile("mapping.json", json.dumps(document).encode(), content_type="application/json")
    response = admin_client.post(
        reverse("mapping_import", args=[application.slug]), {"file": upload, "mapping_version": 1}
    )
    assert response.status_code == 302
    row = AttributeMapping.objects.get(object_mapping__application=application, target_attribute="LastName")
    assert row.default_value == "Unknown"


def test_a_bad_import_lists_every_problem_and_changes_nothing(admin_client, application):
    document = _document(application)
    for row in document["attributeMappings"]:
        if row["targetAttributeName"] == "Alias":
            row["source"]["expression"] = "Mid([userPrincipalName], 1)"
        if row["targetAttributeName"] == "LastName":
            row["defaultValue"] = "Unknown"
    response = admin_client.post(reverse("mapping_import", args=[application.slug]), {"document": json.dumps(document)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was imported: 1 problem." in html
    assert "(target Alias): Mid expects 3 arguments, got 2 (column 1)" in html
    row = AttributeMapping.objects.get(object_mapping__application=application, target_attribute="LastName")
    assert row.default_value == "."


def test_invalid_json_is_reported(admin_client, application):
    response = admin_client.post(reverse("mapping_import", args=[application.slug]), {"document": "{nope"})
    assert response.status_code == 400
    assert "not valid JSON" in response.content.decode()


def test_a_file_far_larger_than_a_mapping_is_refused_unread(admin_client, application):
    upload = SimpleUploadedFile("backup.tar", b"x" * 2_000_001, content_type="application/octet-stream")
    response = admin_client.post(reverse("mapping_import", args=[application.slug]), {"file": upload})
    assert response.status_code == 400
    assert "The file has 2,000,001 bytes; a mapping export is a few kilobytes" in response.content.decode()
    assert ObjectMapping.objects.get(application=application).version == 1


def test_tester_with_a_sample_returns_the_htmx_partial(admin_client, application):
    response = admin_client.post(
        reverse("expression_test", args=[application.slug]),
        {"expression": 'Replace([mail], "@contoso.com", , , "", , )', "sample": '{"mail": "john.doe@contoso.com"}'},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<code>john.doe</code>" in html and "<html" not in html


def test_tester_shows_null_and_ignore_flow(admin_client, application):
    url = reverse("expression_test", args=[application.slug])
    html = admin_client.post(url, {"expression": "[mail]", "sample": "{}"}).content.decode()
    assert "(null: nothing flows" in html
    html = admin_client.post(url, {"expression": "IgnoreFlowIfNullOrEmpty([mail])", "sample": "{}"}).content.decode()
    assert "IgnoreFlowIfNullOrEmpty dropped the attribute" in html


def test_tester_shows_the_column_of_a_syntax_error(admin_client, application):
    response = admin_client.post(
        reverse("expression_test", args=[application.slug]),
        {"expression": "Mid([userPrincipalName], 1)", "sample": "{}"},
        HTTP_HX_REQUEST="true",
    )
    assert "Mid expects 3 arguments, got 2 (column 1)" in response.content.decode()


def test_tester_needs_exactly_one_of_user_and_sample(admin_client, application):
    url = reverse("expression_test", args=[application.slug])
    response = admin_client.post(url, {"expression": "Now()"})
    assert response.status_code == 400
    assert "Enter an Entra user (user principal name or object ID) or type a sample user" in response.content.decode()
    both = admin_client.post(url, {"expression": "Now()", "user": "ada@contoso.com", "sample": "{}"})
    assert both.status_code == 400
    assert "Give either an Entra user or a sample user, not both." in both.content.decode()


def test_tester_refuses_a_sample_that_is_not_an_object(admin_client, application):
    response = admin_client.post(
        reverse("expression_test", args=[application.slug]), {"expression": "Now()", "sample": "[1]"}
    )
    assert "The sample must be a JSON object" in response.content.decode()


def test_tester_prefills_from_a_row(admin_client, application):
    row = AttributeMapping.objects.get(object_mapping__application=application, target_attribute="Alias")
    html = admin_client.get(reverse("expression_test", args=[application.slug]) + f"?row={row.pk}").content.decode()
    assert "Mid([userPrincipalName], 1, 8)</textarea>" in html


def test_a_deeply_nested_paste_or_file_is_refused_with_its_limit(admin_client, application):
    url = reverse("mapping_import", args=[application.slug])
    deep = '{"attributeMappings": ' + "[" * 50_000 + "]" * 50_000 + "}"
    pasted = admin_client.post(url, {"document": deep})
    assert pasted.status_code == 400
    assert "The pasted text nests arrays and objects 50,001 levels deep; at most 200 levels" in pasted.content.decode()
    assert escape(deep[:200]) in pasted.content.decode()  # what was pasted is still in the box
    upload = SimpleUploadedFile("deep.json", deep.encode(), content_type="application/json")
    uploaded = admin_client.post(url, {"file": upload})
    assert uploaded.status_code == 400
    assert "The file nests arrays and objects 50,001 levels deep" in uploaded.content.decode()
    assert ObjectMapping.objects.get(application=application).version == 1


def test_a_paste_over_the_request_limit_gets_a_page_that_explains_it(admin_client, application, settings):
    url = reverse("mapping_import", args=[application.slug])
    response = admin_client.post(url, {"document": "x" * 3_000_000})
    assert response.status_code == 413
    html = response.content.decode()
    assert "The form you sent is too large" in html
    assert f"at most 2.5 MB ({settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes)" in html
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in html and "choose it with Mapping JSON file" in html
    assert "Back button returns to the form" in html
    assert ObjectMapping.objects.get(application=application).version == 1


def test_a_deeply_nested_sample_user_is_an_error_of_the_tester(admin_client, application):
    response = admin_client.post(
        reverse("expression_test", args=[application.slug]),
        {"expression": "[mail]", "sample": "[" * 5_000},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "The sample nests arrays and objects 5,000 levels deep" in response.content.decode()
