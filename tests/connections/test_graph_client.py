"""GraphClient against recorded Entra token and Graph answers on a local HTTPS server."""

from __future__ import annotations

import pytest

from connections.clients.errors import (
    AuthenticationError,
    BadRequest,
    DeltaExpired,
    NotFound,
    StopError,
    TransientError,
)
from connections.clients.graph import GraphClient
from connections.clients.http import RetryBudget
from tests.connections.conftest import CLIENT_ID, ENTRA_SECRET, GRAPH_TOKEN, SP_ID, TENANT
from tests.connections.wire import Reply, graph_error_body, token_error_body

TOKEN_PATH = f"/{TENANT}/oauth2/v2.0/token"


@pytest.fixture
def entra(wire):
    wire.entra_discovery(TENANT)
    wire.entra_token_ok(TENANT, GRAPH_TOKEN)
    return wire


@pytest.fixture
def client(entra_connection, no_sleep):
    c = GraphClient(entra_connection)
    no_sleep(c)
    return c


def test_token_uses_client_credentials_against_the_configured_authority(client, entra, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")

    assert client.token() == GRAPH_TOKEN

    form = entra.calls("POST", TOKEN_PATH)[0].body.decode()
    assert "grant_type=client_credentials" in form and f"client_id={CLIENT_ID}" in form
    assert "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in form
    assert not entra.calls("GET", "/common/discovery/instance")


def test_token_is_cached_per_credential_set_across_clients(entra_connection, entra):
    GraphClient(entra_connection).token()
    second = GraphClient(entra_connection)
    second.token()

    assert len(entra.calls("POST", TOKEN_PATH)) == 1
    assert len(entra.calls("GET", f"/{TENANT}/v2.0/.well-known/openid-configuration")) == 1
    assert second.calls == 0


def test_cache_key_holds_a_hash_not_the_secret(entra_connection, entra):
    from connections.clients import graph

    GraphClient(entra_connection).token()
    assert graph._APPLICATIONS and all(ENTRA_SECRET not in repr(key) for key in graph._APPLICATIONS)


def test_a_new_secret_gets_a_new_application(entra_connection, entra):
    GraphClient(entra_connection).token()
    entra_connection.set_secret("client_secret", "another-secret")
    GraphClient(entra_connection).token()

    assert len(entra.calls("POST", TOKEN_PATH)) == 2


def test_pages_follow_next_link_with_top_999(client, entra):
    entra.add(
        "GET",
        "/v1.0/users",
        Reply(200, {"value": [{"id": "1"}], "@odata.nextLink": f"{entra.url}/v1.0/users/page2"}),
    )
    entra.add("GET", "/v1.0/users/page2", Reply(200, {"value": [{"id": "2"}]}))

    pages = list(client.iter_users(["id", "userPrincipalName"], filter="accountEnabled eq true"))

    assert pages == [[{"id": "1"}], [{"id": "2"}]]
    first = entra.calls("GET", "/v1.0/users")[0]
    assert first.query == {"$select": ["id,userPrincipalName"], "$top": ["999"], "$filter": ["accountEnabled eq true"]}
    assert first.headers["Authorization"] == f"Bearer {GRAPH_TOKEN}"
    assert client.calls == 4  # discovery, token, two pages


def test_next_link_to_another_host_is_refused(client, entra):
    entra.add("GET", "/v1.0/users", Reply(200, {"value": [], "@odata.nextLink": "https://evil.example/v1.0/users"}))

    with pytest.raises(StopError) as caught:
        list(client.iter_users(["id"]))
    assert caught.value.code == "FOREIGN_LINK"


def test_throttling_honours_retry_after(client, entra, no_sleep):
    waits = no_sleep(client)
    throttled = Reply(429, graph_error_body("TooManyRequests", "Please retry again later."), {"Retry-After": "7"})
    entra.add("GET", f"/v1.0/servicePrincipals/{SP_ID}", throttled, Reply(200, {"id": SP_ID, "appRoles": []}))

    assert client.service_principal()["id"] == SP_ID
    assert waits == [7.0]


def test_persistent_503_ends_in_a_transient_error(entra_connection, entra, no_sleep):
    client = GraphClient(entra_connection, max_retries=2)
    waits = no_sleep(client)
    entra.add(
        "GET",
        "/v1.0/users",
        Reply(503, graph_error_body("serviceNotAvailable", "Service unavailable"), {"Retry-After": "1"}),
    )

    with pytest.raises(TransientError) as caught:
        list(client.iter_users(["id"]))
    assert caught.value.retry_after == 1.0 and waits == [1.0, 1.0]


def test_five_429s_in_a_row_are_waited_out_within_the_budget(client, entra, no_sleep):
    waits = no_sleep(client)
    throttled = Reply(429, graph_error_body("TooManyRequests", "Please retry again later."), {"Retry-After": "2"})
    entra.add("GET", "/v1.0/users", *[throttled] * 5, Reply(200, {"value": [{"id": "u1"}]}))

    assert list(client.iter_users(["id"])) == [[{"id": "u1"}]]
    assert waits == [2.0] * 5 and client.throttles == 5


def test_a_retry_after_longer_than_the_budget_left_fails_the_call_at_once_saying_why(entra_connection, entra, no_sleep):
    client = GraphClient(entra_connection, retry_budget=RetryBudget(100))
    waits = no_sleep(client)
    entra.add(
        "GET",
        "/v1.0/users",
        Reply(503, graph_error_body("serviceNotAvailable", "Service unavailable"), {"Retry-After": "60"}),
    )

    with pytest.raises(TransientError) as caught:
        list(client.iter_users(["id"]))
    assert waits == [60.0]  # a second minute does not fit in what is left
    assert caught.value.budget_exhausted and "asked to wait 60 seconds" in str(caught.value)
    assert "(100 seconds) is used up" in str(caught.value)


def test_401_refreshes_the_token_once(client, entra):
    entra.add(
        "GET",
        "/v1.0/users/alice@acme.com",
        Reply(401, graph_error_body("InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")),
        Reply(200, {"id": "a"}),
    )

    assert client.get_user("alice@acme.com", ["id"]) == {"id": "a"}
    assert len(entra.calls("POST", TOKEN_PATH)) == 2


def test_401_twice_is_an_authentication_error(client, entra):
    entra.add(
        "GET", "/v1.0/users/x", Reply(401, graph_error_body("InvalidAuthenticationToken", "Access token is empty."))
    )

    with pytest.raises(AuthenticationError):
        client.get_user("x", ["id"])
    assert len(entra.calls("GET", "/v1.0/users/x")) == 2


def test_403_says_which_permissions_to_grant(client, entra):
    entra.add(
        "GET",
        "/v1.0/users",
        Reply(
            403, graph_error_body("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        ),
    )

    with pytest.raises(StopError) as caught:
        list(client.iter_users(["id"]))
    text = str(caught.value)
    assert caught.value.code == "Authorization_RequestDenied"
    assert "User.Read.All" in text and "GroupMember.Read.All" in text and "Application.Read.All" in text
    assert "admin consent" in text


def test_unknown_service_principal_is_not_found_with_advice(client, entra):
    entra.add(
        "GET",
        f"/v1.0/servicePrincipals/{SP_ID}",
        Reply(404, graph_error_body("Request_ResourceNotFound", f"Resource '{SP_ID}' does not exist.")),
    )

    with pytest.raises(NotFound) as caught:
        client.service_principal()
    assert SP_ID in str(caught.value) and "Enterprise applications" in str(caught.value)


def test_bad_request_keeps_graph_message(client, entra):
    entra.add("GET", "/v1.0/users", Reply(400, graph_error_body("Request_BadRequest", "Invalid page size specified")))

    with pytest.raises(BadRequest, match="Invalid page size"):
        list(client.iter_users(["id"]))


def test_delta_yields_pages_and_keeps_the_delta_link(client, entra):
    entra.add(
        "GET",
        "/v1.0/users/delta",
        Reply(200, {"value": [{"id": "1"}], "@odata.nextLink": f"{entra.url}/v1.0/users/delta2"}),
    )
    entra.add(
        "GET",
        "/v1.0/users/delta2",
        Reply(
            200,
            {
                "value": [{"id": "2", "@removed": {"reason": "changed"}}],
                "@odata.deltaLink": f"{entra.url}/v1.0/users/delta3",
            },
        ),
    )

    pages = list(client.delta(["id", "accountEnabled"], None))

    assert [len(p) for p in pages] == [1, 1]
    assert client.last_delta_link == f"{entra.url}/v1.0/users/delta3"
    assert entra.calls("GET", "/v1.0/users/delta")[0].query == {"$select": ["id,accountEnabled"]}


@pytest.mark.parametrize(
    "reply",
    [
        Reply(410, graph_error_body("syncStateNotFound", "The delta token has expired.")),
        Reply(400, graph_error_body("resyncRequired", "Resync required.")),
    ],
)
def test_expired_delta_link_raises_delta_expired(client, entra, reply):
    entra.add("GET", "/v1.0/users/delta3", reply)

    with pytest.raises(DeltaExpired):
        list(client.delta(["id"], f"{entra.url}/v1.0/users/delta3"))


def test_batch_retries_only_throttled_requests(client, entra, no_sleep):
    waits = no_sleep(client)
    entra.add(
        "POST",
        "/v1.0/$batch",
        Reply(
            200,
            {
                "responses": [
                    {"id": "2", "status": 429, "headers": {"Retry-After": "3"}, "body": {}},
                    {"id": "1", "status": 200, "headers": {}, "body": {"id": "u1"}},
                ]
            },
        ),
        Reply(200, {"responses": [{"id": "2", "status": 200, "headers": {}, "body": {"id": "u2"}}]}),
    )

    answers = client.batch(
        [{"id": "1", "method": "GET", "url": "/users/u1"}, {"id": "2", "method": "GET", "url": "/users/u2"}]
    )

    assert {k: v["body"]["id"] for k, v in answers.items()} == {"1": "u1", "2": "u2"}
    assert [len(c.json()["requests"]) for c in entra.calls("POST", "/v1.0/$batch")] == [2, 1]
    assert waits == [3.0]


def test_batch_refuses_more_than_20(client):
    with pytest.raises(ValueError):
        client.batch([{"id": str(i), "method": "GET", "url": "/users"} for i in range(21)])


def test_assignments_are_paged(client, entra):
    entra.add(
        "GET",
        f"/v1.0/servicePrincipals/{SP_ID}/appRoleAssignedTo",
        Reply(200, {"value": [{"id": "a1", "principalType": "User"}, {"id": "a2", "principalType": "Group"}]}),
    )

    assert [a["id"] for a in client.iter_app_role_assignments()] == ["a1", "a2"]


def test_assignment_writes(client, entra):
    path = f"/v1.0/servicePrincipals/{SP_ID}/appRoleAssignedTo"
    entra.add("POST", path, Reply(201, {"id": "new"}))
    entra.add("DELETE", f"{path}/new", Reply(204))
    entra.add("PATCH", f"/v1.0/servicePrincipals/{SP_ID}", Reply(204))

    assert client.add_assignment("user-1", "role-1") == {"id": "new"}
    client.remove_assignment("new")
    client.set_app_roles([{"id": "role-1", "value": "Standard User"}])

    assert entra.calls("POST", path)[0].json() == {"principalId": "user-1", "resourceId": SP_ID, "appRoleId": "role-1"}
    assert entra.calls("PATCH")[0].json() == {"appRoles": [{"id": "role-1", "value": "Standard User"}]}


@pytest.mark.parametrize(
    ("aadsts", "words"),
    [
        (7000215, "not its Secret ID"),
        (7000222, "expired"),
        (700016, "Client (application) ID"),
    ],
)
def test_token_errors_say_what_to_do(client, wire, aadsts, words):
    wire.entra_discovery(TENANT)
    status, body = token_error_body(aadsts, CLIENT_ID, TENANT)
    wire.add("POST", TOKEN_PATH, Reply(status, body))

    with pytest.raises(AuthenticationError) as caught:
        client.token()
    assert caught.value.code == f"AADSTS{aadsts}"
    assert words in str(caught.value)


def test_unknown_tenant(client, wire):
    status, body = token_error_body(90002, CLIENT_ID, TENANT)
    wire.add("GET", f"/{TENANT}/v2.0/.well-known/openid-configuration", Reply(status, body))

    with pytest.raises(AuthenticationError) as caught:
        client.token()
    assert caught.value.code == "AADSTS90002"
    assert TENANT in str(caught.value)
