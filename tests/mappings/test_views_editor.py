"""The object mapping page and the mapping editor: permissions, validation on save, version bumps and audit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.models import AuditActivity, AuditEntry
from mappings.models import AttributeMapping, ObjectMapping
from tests.conftest import current_version

pytestmark = pytest.mark.django_db


def _mapping(application) -> ObjectMapping:
    return ObjectMapping.objects.get(application=application)


def _row(application, target: str) -> AttributeMapping:
    return AttributeMapping.objects.get(object_mapping__application=application, target_attribute=target)


def _edit_data(row: AttributeMapping, **changes) -> dict:
    data = {
        "mapping_type": row.mapping_type,
        "source_attribute": row.source_attribute,
        "constant_value": row.constant_value,
        "expression": row.expression,
        "target_attribute": row.target_attribute,
        "default_value": row.default_value,
        "matching_precedence": row.matching_precedence or "",
        "flow_type": row.flow_type,
    }
    if row.match_objects:
        data["match_objects"] = "on"
    data["edit_version"] = current_version(row)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_anonymous_is_sent_to_sign_in(client, application):
    for name in ("mapping_editor", "attribute_mapping_add", "mapping_restore", "expression_test", "mapping_import"):
        response = client.get(reverse(name, args=[application.slug]))
        assert response.status_code == 302 and "/login/" in response["Location"], name


def test_user_without_role_is_refused(client, roleless_user, application):
    client.force_login(roleless_user)
    assert client.get(reverse("mapping_editor", args=[application.slug])).status_code == 403


def test_reader_sees_the_mapping_read_only_and_cannot_post(reader_client, application):
    slug = application.slug
    page = reader_client.get(reverse("mapping_editor", args=[slug]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Append([userPrincipalName], &quot;.uat&quot;)" in html
    assert "Add New Mapping" not in html and "Restore default mappings" not in html
    row = _row(application, "FirstName")
    assert reader_client.get(reverse("attribute_mapping_edit", args=[slug, row.pk])).status_code == 200
    posts = [
        (reverse("mapping_save", args=[slug]), {"mapping-enabled": "on"}),
        (reverse("attribute_mapping_edit", args=[slug, row.pk]), _edit_data(row, default_value="x")),
        (reverse("attribute_mapping_add", args=[slug]), {}),
        (reverse("attribute_mapping_delete", args=[slug, row.pk]), {}),
        (reverse("mapping_restore", args=[slug]), {}),
        (reverse("mapping_refresh_targets", args=[slug]), {}),
        (reverse("scoping_filter_add", args=[slug]), {}),
        (reverse("expression_test", args=[slug]), {"expression": "Now()", "sample": "{}"}),
        (reverse("mapping_import", args=[slug]), {"document": "{}"}),
    ]
    for url, data in posts:
        assert reader_client.post(url, data).status_code == 403, url
    assert _mapping(application).version == 1
    assert _row(application, "FirstName").default_value == ""


def test_provisioning_tab_links_to_the_editor_and_shows_the_suffix(admin_client, application):
    application.provisioning_mode = "automatic"
    application.save()
    html = admin_client.get(reverse("provisioning", args=[application.slug])).content.decode()
    assert reverse("mapping_editor", args=[application.slug]) in html
    assert ">uat<" in html


def test_saving_a_valid_expression_bumps_the_version_and_audits(admin_client, application):
    row = _row(application, "Alias")
    url = reverse("attribute_mapping_edit", args=[application.slug, row.pk])
    response = admin_client.post(url, _edit_data(row, expression="Left([mailNickname], 8)"))
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert _row(application, "Alias").expression == "Left([mailNickname], 8)"
    assert _mapping(application).version == 2
    entry = AuditEntry.objects.get(activity=AuditActivity.UPDATE_MAPPINGS)
    assert entry.changed_fields == ["Alias.expression"]
    assert entry.actor.username == "alice.admin"


@pytest.mark.parametrize(
    "target, expression, message",
    [
        ("Alias", "Mid([userPrincipalName], 1)", "Mid expects 3 arguments, got 2 (column 1)"),
        # An invalid regular expression is refused on save, as scoping filters refuse theirs.
        ("LocaleSidKey", 'Replace([preferredLanguage], , "(", , "_", , )', "invalid regular expression &#x27;(&#x27;"),
    ],
)
def test_a_broken_expression_is_refused_with_its_column(admin_client, application, target, expression, message):
    row = _row(application, target)
    url = reverse("attribute_mapping_edit", args=[application.slug, row.pk])
    response = admin_client.post(url, _edit_data(row, expression=expression))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _row(application, target).expression == row.expression
    assert _mapping(application).version == 1
    assert not AuditEntry.objects.filter(activity=AuditActivity.UPDATE_MAPPINGS).exists()


SUV = 'SelectUniqueValue(Append([mailNickname], ".uat"), Append([mailNickname], "2.uat"))'


def test_select_unique_value_is_saved_only_for_creation_and_never_for_matching(admin_client, application):
    url = reverse("attribute_mapping_add", args=[application.slug])
    data = {"mapping_type": "Expression", "expression": SUV, "target_attribute": "CommunityNickname"}
    response = admin_client.post(url, {**data, "flow_type": "Always"})
    assert response.status_code == 400
    assert "SelectUniqueValue works only when the user is created" in response.content.decode()
    response = admin_client.post(url, {**data, "flow_type": "ObjectAddOnly", "match_objects": "on"})
    assert response.status_code == 400
    assert "SelectUniqueValue cannot be used to match objects" in response.content.decode()
    assert not AttributeMapping.objects.filter(target_attribute="CommunityNickname").exists()
    response = admin_client.post(url, {**data, "flow_type": "ObjectAddOnly"})
    assert response.status_code == 302
    assert _row(application, "CommunityNickname").expression == SUV


def test_an_unknown_attribute_in_an_expression_suggests_the_right_one(admin_client, application):
    row = _row(application, "Alias")
    url = reverse("attribute_mapping_edit", args=[application.slug, row.pk])
    response = admin_client.post(url, _edit_data(row, expression="Mid([userprincipalname], 1, 8)"))
    assert response.status_code == 400
    assert "did you mean [userPrincipalName]?" in response.content.decode()


def test_adding_a_direct_mapping(admin_client, application):
    url = reverse("attribute_mapping_add", args=[application.slug])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url, {"mapping_type": "Direct", "source_attribute": "department", "target_attribute": "Department",
              "flow_type": "Always"},
    )  # fmt: skip
    assert response.status_code == 302
    row = _row(application, "Department")
    assert (row.mapping_type, row.source_attribute, row.expression) == ("Direct", "department", "")
    assert _mapping(application).version == 2


def test_adding_a_mapping_for_an_already_mapped_target_is_refused(admin_client, application):
    url = reverse("attribute_mapping_add", args=[application.slug])
    response = admin_client.post(
        url, {"mapping_type": "Constant", "constant_value": "x", "target_attribute": "FirstName", "flow_type": "Always"}
    )
    assert response.status_code == 400
    assert "FirstName already has a mapping" in response.content.decode()


def test_a_direct_mapping_from_an_unknown_attribute_is_refused(admin_client, application):
    url = reverse("attribute_mapping_add", args=[application.slug])
    response = admin_client.post(
        url, {"mapping_type": "Direct", "source_attribute": "departmnt", "target_attribute": "Department",
              "flow_type": "Always"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Did you mean department?" in response.content.decode()


def test_extension_attributes_may_be_typed(admin_client, application):
    url = reverse("attribute_mapping_add", args=[application.slug])
    response = admin_client.post(
        url, {"mapping_type": "Direct", "source_attribute": "extensionAttribute5", "target_attribute": "Division",
              "flow_type": "ObjectAddOnly"},
    )  # fmt: skip
    assert response.status_code == 302
    assert _row(application, "Division").flow_type == "ObjectAddOnly"


def test_required_attributes_cannot_be_deleted(admin_client, application):
    for target in ("Username", "LastName", "Email", "Alias", "ProfileName", "LanguageLocaleKey"):
        row = _row(application, target)
        admin_client.post(reverse("attribute_mapping_delete", args=[application.slug, row.pk]))
        assert AttributeMapping.objects.filter(pk=row.pk).exists(), target
    assert _mapping(application).version == 1


def test_deleting_an_optional_mapping(admin_client, application):
    row = _row(application, "FirstName")
    delete = reverse("attribute_mapping_delete", args=[application.slug, row.pk])
    response = admin_client.post(delete, {"edit_version": current_version(row)})
    assert response.status_code == 302
    assert not AttributeMapping.objects.filter(pk=row.pk).exists()
    assert AuditEntry.objects.get(activity=AuditActivity.UPDATE_MAPPINGS).changed_fields == ["FirstName"]


def test_the_last_matching_attribute_cannot_stop_matching(admin_client, application):
    row = _row(application, "Username")
    url = reverse("attribute_mapping_edit", args=[application.slug, row.pk])
    data = _edit_data(row)
    data.pop("match_objects")
    response = admin_client.post(url, data)
    assert response.status_code == 400
    assert "At least one attribute must be used to match objects" in response.content.decode()


def test_changing_the_suffix_rewrites_username_and_email(admin_client, application):
    response = admin_client.post(
        reverse("mapping_save", args=[application.slug]),
        {"mapping-enabled": "on", "mapping-action_create": "on", "mapping-action_update": "on",
         "mapping-action_delete": "on", "mapping-sandbox_suffix": "qa2",
         "mapping-edit_version": current_version(_mapping(application))},
    )  # fmt: skip
    assert response.status_code == 302
    assert _row(application, "Username").expression == 'Append([userPrincipalName], ".qa2")'
    assert _row(application, "Email").expression == 'Append([mail], ".qa2")'
    mapping = _mapping(application)
    assert (mapping.sandbox_suffix, mapping.version) == ("qa2", 2)
    entry = AuditEntry.objects.get(activity=AuditActivity.UPDATE_MAPPINGS)
    assert entry.changed_fields == ["Email", "Username", "sandbox_suffix"]


def test_unticking_create_is_saved(admin_client, application):
    response = admin_client.post(
        reverse("mapping_save", args=[application.slug]),
        {"mapping-enabled": "on", "mapping-action_update": "on", "mapping-action_delete": "on",
         "mapping-sandbox_suffix": "uat", "mapping-edit_version": current_version(_mapping(application))},
    )  # fmt: skip
    assert response.status_code == 302
    mapping = _mapping(application)
    assert (mapping.action_create, mapping.action_update, mapping.version) == (False, True, 2)


def test_an_invalid_suffix_is_refused(admin_client, application):
    response = admin_client.post(
        reverse("mapping_save", args=[application.slug]), {"mapping-enabled": "on", "mapping-sandbox_suffix": "u a t"}
    )
    assert response.status_code == 400
    assert _mapping(application).sandbox_suffix == "uat"


def test_an_empty_suffix_is_refused_and_the_expressions_keep_theirs(admin_client, application):
    response = admin_client.post(
        reverse("mapping_save", args=[application.slug]),
        {"mapping-enabled": "on", "mapping-action_create": "on", "mapping-sandbox_suffix": " "},
    )
    assert response.status_code == 400
    assert "Enter the sandbox suffix (for example uat)" in response.content.decode()
    mapping = _mapping(application)
    assert (mapping.sandbox_suffix, mapping.version, mapping.action_update) == ("uat", 1, True)
    assert _row(application, "Username").expression == 'Append([userPrincipalName], ".uat")'


def test_restore_default_mappings_asks_first_then_resets(admin_client, application):
    _row(application, "FirstName").delete()
    url = reverse("mapping_restore", args=[application.slug])
    page = admin_client.get(url)
    assert page.status_code == 200 and "Restore default mappings?" in page.content.decode()
    assert not AttributeMapping.objects.filter(target_attribute="FirstName").exists()
    assert admin_client.post(url, {"mapping_version": _mapping(application).version}).status_code == 302
    assert _row(application, "FirstName").source_attribute == "givenName"
    assert _row(application, "Username").expression == 'Append([userPrincipalName], ".uat")'
    assert _mapping(application).version > 1
    assert AuditEntry.objects.filter(activity=AuditActivity.UPDATE_MAPPINGS).count() == 1


def test_refresh_target_attributes_failure_is_reported(admin_client, application):
    response = admin_client.post(reverse("mapping_refresh_targets", args=[application.slug]), follow=True)
    html = response.content.decode()
    assert "Could not read the Salesforce User fields" in html
    assert "The Salesforce connection is incomplete: fill in Admin Username, Admin Password." in html


def test_an_application_without_a_mapping_is_offered_the_defaults(admin_client, application):
    _mapping(application).delete()
    response = admin_client.get(reverse("mapping_editor", args=[application.slug]))
    assert response["Location"] == reverse("mapping_restore", args=[application.slug])
    assert admin_client.post(response["Location"]).status_code == 302
    assert _row(application, "Username").expression == 'Append([userPrincipalName], ".uat")'
