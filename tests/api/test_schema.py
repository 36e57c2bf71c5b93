"""The schema's objectMapping over the API: the same JSON as `mappings export/import`, replaced all or nothing,
and never over a change made since the GET (If-Match with the ETag, refused with 412)."""

from __future__ import annotations

import json

from console.models import AuditActivity, AuditEntry
from mappings.graph_json import export_object_mapping
from mappings.models import AttributeMapping, ObjectMapping


def url(application) -> str:
    return (
        f"/api/v1.0/applications/{application.slug}/synchronization/jobs/{application.job.job_id}/schema/objectMapping"
    )


MINE = "UserPermissionsOfflineUser"  # the row this API client removes


def without(document: dict, target: str) -> None:
    document["attributeMappings"] = [m for m in document["attributeMappings"] if m["targetAttributeName"] != target]


def test_get_answers_the_export_with_its_version_as_etag(application, api_as, reader_token):
    response = api_as(reader_token).get(url(application))
    mapping = ObjectMapping.objects.get(application=application)
    assert response.status_code == 200 and response["ETag"] == f'"{mapping.version}"'
    assert json.loads(response.content) == export_object_mapping(mapping)


def test_put_replaces_the_mapping_as_the_import_does(application, api_as, admin_token):
    client = api_as(admin_token)
    got = client.get(url(application))
    document = json.loads(got.content)
    without(document, MINE)
    response = client.put(url(application), document, **{"If-Match": got["ETag"]})
    assert response.status_code == 200, response.content
    mapping = ObjectMapping.objects.get(application=application)
    assert response["ETag"] == f'"{mapping.version}"' != got["ETag"]
    assert not AttributeMapping.objects.filter(object_mapping=mapping, target_attribute=MINE).exists()
    assert json.loads(response.content) == export_object_mapping(mapping)
    entry = AuditEntry.objects.filter(activity=AuditActivity.UPDATE_MAPPINGS).order_by("-id").first()
    assert entry.actor == admin_token.token.user


def test_a_stale_put_is_refused_naming_the_change_and_nothing_is_written(application, api_as, admin_token, admin_user):
    client = api_as(admin_token)
    got = client.get(url(application))
    document = json.loads(got.content)
    # Someone else imports meanwhile (the console's page or the command).
    other = json.loads(got.content)
    without(other, "UserPermissionsMarketingUser")
    assert client.put(url(application), other, **{"If-Match": got["ETag"]}).status_code == 200
    before = ObjectMapping.objects.get(application=application).version
    without(document, MINE)
    response = client.put(url(application), document, **{"If-Match": got["ETag"]})
    body = json.loads(response.content)
    assert response.status_code == 412 and body["error"]["code"] == "PreconditionFailed"
    assert admin_user.username in body["error"]["message"] and f"version {before}" in body["error"]["message"]
    assert response["ETag"] == f'"{before}"'
    mapping = ObjectMapping.objects.get(application=application)
    assert mapping.version == before
    assert AttributeMapping.objects.filter(object_mapping=mapping, target_attribute=MINE).exists()


def test_put_without_if_match_or_with_a_bad_document_changes_nothing(application, api_as, admin_token):
    client = api_as(admin_token)
    got = client.get(url(application))
    version = ObjectMapping.objects.get(application=application).version
    missing = client.put(url(application), json.loads(got.content))
    assert missing.status_code == 428 and "If-Match" in json.loads(missing.content)["error"]["message"]
    broken = json.loads(got.content)
    broken["attributeMappings"][0]["targetAttributeName"] = "NoSuchField__c"
    refused = client.put(url(application), broken, **{"If-Match": got["ETag"]})
    body = json.loads(refused.content)
    assert refused.status_code == 400 and "NoSuchField__c" in body["error"]["message"]
    not_json = client.client.put(url(application), "{oops", content_type="application/json",
                                 headers={**client.headers, "If-Match": got["ETag"]})  # fmt: skip
    assert not_json.status_code == 400 and "not valid JSON" in json.loads(not_json.content)["error"]["message"]
    deep = client.client.put(url(application), "[" * 500 + "]" * 500, content_type="application/json",
                             headers={**client.headers, "If-Match": got["ETag"]})  # fmt: skip
    assert deep.status_code == 400 and "levels deep" in json.loads(deep.content)["error"]["message"]
    assert ObjectMapping.objects.get(application=application).version == version


def test_if_match_star_replaces_whatever_is_there(application, api_as, admin_token):
    client = api_as(admin_token)
    document = json.loads(client.get(url(application)).content)
    assert client.put(url(application), document, **{"If-Match": "*"}).status_code == 200
