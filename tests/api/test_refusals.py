"""What Django refuses before any API view runs comes back in Graph's error format on /api/ paths, and as the
console's pages elsewhere."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

JOBS = "/api/v1.0/applications"


def graph_error(response, status: int, code: str) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    return body["error"]["message"]


def test_a_host_outside_allowed_hosts_is_refused_as_graph_json(reader_token):
    response = Client().get(JOBS, HTTP_HOST="attacker.example", headers={"Authorization": f"Bearer {reader_token.raw}"})
    assert "ALLOWED_HOSTS" in graph_error(response, 400, "BadRequest")


def test_a_host_outside_allowed_hosts_still_gets_a_page_outside_the_api():
    response = Client().get("/login/", HTTP_HOST="attacker.example")
    assert response.status_code == 400 and not response["Content-Type"].startswith("application/json")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_form_body_over_the_upload_limit_is_refused_as_graph_json(admin_token):
    response = Client().post(
        f"{JOBS}/x/synchronization/jobs/y/start",
        data={"field": "x" * 5000},
        headers={"Authorization": f"Bearer {admin_token.raw}"},
    )
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in graph_error(response, 413, "RequestEntityTooLarge")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_the_same_form_outside_the_api_gets_the_explaining_page(admin_client):
    response = admin_client.post("/login/", data={"field": "x" * 5000})
    assert response.status_code == 413 and b"too large" in response.content


def test_a_failed_csrf_check_on_an_api_path_is_refused_as_graph_json(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    message = graph_error(client.post("/api/"), 403, "Authorization_RequestDenied")
    assert "CSRF" in message and "Bearer" in message


def test_a_failed_csrf_check_elsewhere_keeps_djangos_page(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post("/logout/")
    assert response.status_code == 403 and not response["Content-Type"].startswith("application/json")


def test_a_path_no_api_view_answers_is_graph_json_and_a_console_path_a_page(admin_client):
    graph_error(Client().get("/api/nothing-here/at/all"), 404, "Request_ResourceNotFound")
    response = admin_client.get("/nothing-here/at/all/")
    assert response.status_code == 404 and not response["Content-Type"].startswith("application/json")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_json_body_over_the_upload_limit_is_refused_as_graph_json(application, admin_token):
    path = f"{JOBS}/{application.slug}/synchronization/jobs/{application.job.job_id}/restart"
    response = Client().post(
        path,
        data=json.dumps({"criteria": {"resetScope": "Full"}, "padding": "x" * 5000}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {admin_token.raw}"},
    )
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in graph_error(response, 413, "RequestEntityTooLarge")
