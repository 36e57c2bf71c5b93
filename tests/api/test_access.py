"""Every operation of the API, found in its OpenAPI description rather than listed by hand, for anonymous callers,
expired and revoked tokens, a reader's token, an administrator's read token and an administrator's token. An
operation added later is covered without anyone remembering to add it here."""

from __future__ import annotations

import json

import pytest

from api.api import api
from api.models import ApiToken
from console.models import AuditActivity, AuditEntry

# Operations a read token may call; every other one needs a token that administers.
READ_OPERATIONS = {
    "listApplications",
    "getApplication",
    "listSynchronizationJobs",
    "getSynchronizationJob",
    "getObjectMapping",
    "listProvisioningObjectSummaries",
}


def _operations() -> list[tuple[str, str, str]]:
    schema = api.get_openapi_schema()
    return [
        (method.upper(), path, operation["operationId"])
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


OPERATIONS = _operations()


def _url(path: str, application) -> str:
    return path.replace("{application}", application.slug).replace("{job_id}", application.job.job_id)


def _assert_graph_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = json.loads(response.content)
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body


def test_the_operations_are_found():
    ids = {operation_id for _, _, operation_id in OPERATIONS}
    assert {"listApplications", "getSynchronizationJob"} <= ids


@pytest.mark.parametrize(("method", "path", "operation_id"), OPERATIONS, ids=[o[2] for o in OPERATIONS])
def test_anonymous_expired_and_revoked_are_refused_with_401(
    application, api_as, expired_token, revoked_token, method, path, operation_id
):
    url = _url(path, application)
    body = _assert_graph_error(api_as(None).call(method, url, {}), 401, "InvalidAuthenticationToken")
    assert "Bearer" in body["error"]["message"]
    expired = _assert_graph_error(api_as(expired_token).call(method, url, {}), 401, "InvalidAuthenticationToken")
    assert "expired" in expired["error"]["message"]
    revoked = _assert_graph_error(api_as(revoked_token).call(method, url, {}), 401, "InvalidAuthenticationToken")
    assert "revoked" in revoked["error"]["message"]


@pytest.mark.parametrize(("method", "path", "operation_id"), OPERATIONS, ids=[o[2] for o in OPERATIONS])
def test_read_tokens_read_and_only_administer_tokens_change(
    application, api_as, reader_token, admin_read_token, method, path, operation_id
):
    url = _url(path, application)
    for token in (reader_token, admin_read_token):
        response = api_as(token).call(method, url, {})
        if operation_id in READ_OPERATIONS:
            assert response.status_code == 200, (operation_id, response.content)
        else:
            body = _assert_graph_error(response, 403, "Authorization_RequestDenied")
            assert "may only read" in body["error"]["message"]


@pytest.mark.parametrize(("method", "path", "operation_id"), OPERATIONS, ids=[o[2] for o in OPERATIONS])
def test_an_administrator_token_is_let_through_and_every_write_is_audited(
    application, api_as, admin_token, method, path, operation_id
):
    before = AuditEntry.objects.filter(activity=AuditActivity.API_CALL).count()
    response = api_as(admin_token).call(method, _url(path, application), {})
    assert response.status_code not in (401, 403, 500), response.content
    if method == "GET":  # an answered read leaves no entry; the token's last use says it reads
        assert AuditEntry.objects.filter(activity=AuditActivity.API_CALL).count() == before
        assert ApiToken.objects.get(pk=admin_token.token.pk).last_used_at is not None
        return
    entry = AuditEntry.objects.filter(activity=AuditActivity.API_CALL).order_by("-id").first()
    assert AuditEntry.objects.filter(activity=AuditActivity.API_CALL).count() == before + 1
    assert entry.actor == admin_token.token.user and admin_token.token.prefix in entry.detail
    assert admin_token.raw not in entry.detail and str(response.status_code) in entry.detail
    if "{application}" in path:
        assert entry.application == application


def test_a_token_of_someone_who_lost_the_role_stops_working(application, api_as, admin_token, admin_user):
    url = f"/api/v1.0/applications/{application.slug}/synchronization/jobs/{application.job.job_id}/pause"
    admin_user.groups.clear()
    for method, path in (("GET", "/api/v1.0/applications"), ("POST", url)):
        body = _assert_graph_error(api_as(admin_token).call(method, path, {}), 403, "Authorization_RequestDenied")
        assert "no longer holds" in body["error"]["message"]


def test_an_administrator_who_became_a_reader_can_only_read(application, api_as, admin_token, admin_user):
    from django.contrib.auth.models import Group

    from console.permissions import REPORTS_READER

    admin_user.groups.set([Group.objects.get(name=REPORTS_READER)])
    assert api_as(admin_token).get("/api/v1.0/applications").status_code == 200
    url = f"/api/v1.0/applications/{application.slug}/synchronization/jobs/{application.job.job_id}/pause"
    body = _assert_graph_error(api_as(admin_token).post(url), 403, "Authorization_RequestDenied")
    assert "Application Administrator" in body["error"]["message"]
    assert not AuditEntry.objects.filter(activity=AuditActivity.STOP).exists()


def test_refused_reads_are_audited_without_the_token(api_as, expired_token):
    api_as(expired_token).get("/api/v1.0/applications")
    entry = AuditEntry.objects.filter(activity=AuditActivity.API_CALL).order_by("-id").first()
    assert "401" in entry.detail and "expired" in entry.detail and expired_token.raw not in entry.detail
    assert ApiToken.objects.get(pk=expired_token.token.pk).last_used_at is None


def test_another_scheme_or_a_session_does_not_authenticate(admin_client, api_as, admin_token):
    assert admin_client.get("/api/v1.0/applications").status_code == 401  # a browser session is no API credential
    response = api_as(None).get("/api/v1.0/applications", Authorization=f"Token {admin_token.raw}")
    body = _assert_graph_error(response, 401, "InvalidAuthenticationToken")
    assert admin_token.raw not in body["error"]["message"]


def test_unknown_application_and_job_are_graph_404s(application, api_as, reader_token):
    client = api_as(reader_token)
    _assert_graph_error(client.get("/api/v1.0/applications/nope"), 404, "Request_ResourceNotFound")
    body = _assert_graph_error(
        client.get(f"/api/v1.0/applications/{application.slug}/synchronization/jobs/other"),
        404,
        "Request_ResourceNotFound",
    )
    assert application.job.job_id in body["error"]["message"]
    _assert_graph_error(client.get("/api/"), 404, "Request_ResourceNotFound")
    _assert_graph_error(client.get("/api/v1.0/servicePrincipals"), 404, "Request_ResourceNotFound")


def test_a_method_a_path_does_not_take_and_a_body_that_is_no_json_are_graph_errors(application, api_as, admin_token):
    client = api_as(admin_token)
    response = client.call("DELETE", f"/api/v1.0/applications/{application.slug}")
    body = _assert_graph_error(response, 405, "Request_BadRequest")
    assert "GET" in body["error"]["message"] and response["Allow"] == "GET"
    job = f"/api/v1.0/applications/{application.slug}/synchronization/jobs/{application.job.job_id}"
    deep = client.client.post(f"{job}/restart", "[" * 5000 + "]" * 5000, content_type="application/json",
                              headers=client.headers)  # fmt: skip
    body = _assert_graph_error(deep, 400, "BadRequest")
    assert "levels deep" in body["error"]["message"]
