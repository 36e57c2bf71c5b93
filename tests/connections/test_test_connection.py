"""Test Connection: the real call, a stored result, and a message that says what to do."""

from __future__ import annotations

import itertools
import logging
import socket

import pytest

from connections import connection_test
from connections.clients.errors import RemoteError
from connections.clients.graph import GraphClient
from connections.clients.salesforce import SalesforceClient
from connections.models import TestOutcome
from tests.connections.conftest import CLIENT_ID, SECRETS, SF_SESSION, SP_ID, TENANT
from tests.connections.wire import Reply, graph_error_body, token_error_body

API = "/services/data/v59.0"


def _profile_query(wire):
    wire.add(
        "GET",
        f"{API}/query/",
        Reply(
            200,
            {"totalSize": 1, "done": True, "records": [{"Id": "00e1", "Name": "System Administrator"}]},
            {"Sforce-Limit-Info": "api-usage=42/5000000"},
        ),
        Reply(
            200,
            {"totalSize": 1, "done": True, "records": [{"Id": "00D000000000001EAA"}]},
            {"Sforce-Limit-Info": "api-usage=43/5000000"},
        ),
    )


def test_salesforce_success_is_stored(sf_connection, wire):
    wire.salesforce_login_ok()
    _profile_query(wire)

    result = connection_test.test_connection(sf_connection)

    assert result.ok, result.message
    assert f"127.0.0.1:{wire.port}" in result.message and "admin@acme.com.uat" in result.message
    assert "43 of 5,000,000" in result.message
    sf_connection.refresh_from_db()
    assert sf_connection.organization_id == "00D000000000001EAA"  # recorded by the first Test Connection
    assert sf_connection.last_test_outcome == TestOutcome.SUCCESS
    assert sf_connection.last_test_message == result.message
    assert sf_connection.last_test_duration_ms == result.duration_ms and sf_connection.last_test_at
    assert wire.calls("GET", f"{API}/query/")[0].query["q"] == ["SELECT Id, Name FROM Profile LIMIT 1"]
    assert wire.calls("GET", f"{API}/query/")[1].query["q"] == ["SELECT Id FROM Organization"]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("INVALID_LOGIN", "Resetting the password issues a new security token"),
        ("LOGIN_MUST_USE_SECURITY_TOKEN", "Enter the Secret Token"),
        ("API_DISABLED_FOR_ORG", "API Enabled"),
        ("UNSUPPORTED_API_VERSION", "set the API version between 31.0 and 64.0"),
    ],
)
def test_salesforce_login_faults(sf_connection, wire, code, words):
    wire.salesforce_login_fault(code)

    result = connection_test.test_connection(sf_connection)

    assert not result.ok and words in result.message and code in result.message
    sf_connection.refresh_from_db()
    assert sf_connection.last_test_outcome == TestOutcome.FAILURE and words in sf_connection.last_test_message


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_salesforce_host_unreachable_names_the_host(sf_connection):
    port = _closed_port()
    sf_connection.login_url = f"https://127.0.0.1:{port}"

    result = connection_test.test_connection(sf_connection)

    assert not result.ok
    assert f"Cannot reach 127.0.0.1:{port}: connection refused" in result.message


def test_salesforce_untrusted_certificate_is_a_tls_failure(sf_connection, untrusted_wire):
    sf_connection.login_url = untrusted_wire.url

    result = connection_test.test_connection(sf_connection)

    assert not result.ok
    assert f"TLS failure talking to 127.0.0.1:{untrusted_wire.port}" in result.message
    assert "CA bundle" in result.message
    assert not untrusted_wire.requests


def test_salesforce_missing_configuration_makes_no_call(application, wire):
    conn = application.salesforce
    conn.login_url = wire.url

    result = connection_test.test_connection(conn)

    assert not result.ok
    assert result.message == "Fill in Admin Username, Admin Password before testing the connection."
    assert not wire.requests


def test_entra_success(entra_connection, wire):
    wire.entra_discovery(TENANT)
    wire.entra_token_ok(TENANT)
    wire.add(
        "GET",
        f"/v1.0/servicePrincipals/{SP_ID}",
        Reply(200, {"id": SP_ID, "displayName": "Salesforce Sandbox", "appRoles": [{"id": "r1", "isEnabled": True}]}),
    )

    result = connection_test.test_connection(entra_connection)

    assert result.ok, result.message
    assert "Salesforce Sandbox" in result.message and "1 app roles" in result.message
    assert len(result.steps) == 2


@pytest.mark.parametrize(
    ("aadsts", "words"), [(7000215, "client secret"), (700016, "Client (application) ID"), (90002, "Tenant ID")]
)
def test_entra_token_failures(entra_connection, wire, aadsts, words):
    status, body = token_error_body(aadsts, CLIENT_ID, TENANT)
    if aadsts == 90002:
        wire.add("GET", f"/{TENANT}/v2.0/.well-known/openid-configuration", Reply(status, body))
    else:
        wire.entra_discovery(TENANT)
        wire.add("POST", f"/{TENANT}/oauth2/v2.0/token", Reply(status, body))

    result = connection_test.test_connection(entra_connection)

    assert not result.ok and f"AADSTS{aadsts}" in result.message and words in result.message


def test_entra_service_principal_not_found(entra_connection, wire):
    wire.entra_discovery(TENANT)
    wire.entra_token_ok(TENANT)
    wire.add(
        "GET", f"/v1.0/servicePrincipals/{SP_ID}", Reply(404, graph_error_body("Request_ResourceNotFound", "gone"))
    )

    result = connection_test.test_connection(entra_connection)

    assert not result.ok and f"No service principal with object ID {SP_ID}" in result.message


def test_entra_permission_missing(entra_connection, wire):
    wire.entra_discovery(TENANT)
    wire.entra_token_ok(TENANT)
    wire.add(
        "GET",
        f"/v1.0/servicePrincipals/{SP_ID}",
        Reply(
            403, graph_error_body("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        ),
    )

    result = connection_test.test_connection(entra_connection)

    assert not result.ok and "Graph permission missing" in result.message and "Application.Read.All" in result.message


def test_entra_missing_configuration_makes_no_call(application, wire):
    result = connection_test.test_connection(application.entra)

    assert not result.ok
    assert result.message.startswith("Fill in Tenant ID, Client (application) ID, Client secret, Service principal")
    assert not wire.requests


# -- secrets never leak ----------------------------------------------------------------------


def _provoke_salesforce_failures(sf_connection, wire, untrusted_wire):
    """Every failure path of the Salesforce client, yielding the raised RemoteError."""
    for code in ("INVALID_LOGIN", "LOGIN_MUST_USE_SECURITY_TOKEN", "API_DISABLED_FOR_ORG"):
        wire.salesforce_login_fault(code)
        yield SalesforceClient(sf_connection).login
    wire.salesforce_login_ok(session_id=SF_SESSION)
    for status, code in [
        (401, "INVALID_SESSION_ID"),
        (403, "REQUEST_LIMIT_EXCEEDED"),
        (404, "NOT_FOUND"),
        (400, "INVALID_FIELD"),
        (500, "UNKNOWN"),
    ]:
        wire.add("GET", f"{API}/query/", Reply(status, [{"errorCode": code, "message": "x"}]))
        client = SalesforceClient(sf_connection, max_retries=0)
        yield lambda client=client: list(client.query("SELECT Id FROM User"))
    oauth = sf_connection.__class__(
        login_url=wire.url,
        auth_method="client_credentials",
        consumer_key="3MVG9",
        consumer_secret=sf_connection.admin_password,
    )
    oauth.set_secret("consumer_secret", SECRETS[2])
    wire.add(
        "POST",
        "/services/oauth2/token",
        Reply(400, {"error": "invalid_client", "error_description": "invalid client credentials"}),
    )
    yield SalesforceClient(oauth).login
    yield lambda: SalesforceClient(
        sf_connection.__class__(
            login_url=untrusted_wire.url,
            admin_username="a",
            admin_password=sf_connection.admin_password,
            security_token=sf_connection.security_token,
        )
    ).login()
    closed = sf_connection.__class__(
        login_url=f"https://127.0.0.1:{_closed_port()}",
        admin_username="a",
        admin_password=sf_connection.admin_password,
        security_token=sf_connection.security_token,
    )
    yield lambda: SalesforceClient(closed).login()


def _provoke_graph_failures(entra_connection, wire):
    wire.entra_discovery(TENANT)
    for aadsts in (7000215, 700016):
        status, body = token_error_body(aadsts, CLIENT_ID, TENANT)
        wire.add("POST", f"/{TENANT}/oauth2/v2.0/token", Reply(status, body))
        yield lambda: GraphClient(entra_connection).token()
        from connections.clients.graph import forget_applications

        forget_applications()
    wire.entra_token_ok(TENANT, SECRETS[-1])
    for status, code in [
        (401, "InvalidAuthenticationToken"),
        (403, "Authorization_RequestDenied"),
        (404, "Request_ResourceNotFound"),
        (429, "TooManyRequests"),
    ]:
        wire.add("GET", "/v1.0/users", Reply(status, graph_error_body(code, "x")))
        yield lambda: list(GraphClient(entra_connection, max_retries=0).iter_users(["id"]))


def test_no_secret_in_any_failure_message_request_or_log(sf_connection, entra_connection, wire, untrusted_wire, caplog):
    caplog.set_level(logging.DEBUG)
    raised: list[RemoteError] = []
    # Lazily: each generator step sets up the recorded answer for the call it yields.
    for call in itertools.chain(
        _provoke_salesforce_failures(sf_connection, wire, untrusted_wire),
        _provoke_graph_failures(entra_connection, wire),
    ):
        with pytest.raises(RemoteError) as caught:
            call()
        raised.append(caught.value)

    assert len(raised) == 17
    assert {type(e).__name__ for e in raised} >= {
        "AuthenticationError",
        "SessionExpired",
        "StopError",
        "NotFound",
        "BadRequest",
        "TransientError",
    }
    texts = [f"{e} | {e.request} | {e.code} | {e.recommendation} | {e!r}" for e in raised] + [caplog.text]
    for secret in SECRETS:
        assert not any(secret in text for text in texts), secret
    assert any(r.getMessage() for r in caplog.records)  # logging was on: urllib3 and msal did log


def test_unreadable_secret_is_reported_without_a_call(sf_connection, wire, settings):
    from cryptography.fernet import Fernet

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    result = connection_test.test_connection(sf_connection)

    assert not result.ok and "Enter the secret again" in result.message
    assert not wire.requests


def test_salesforce_api_disabled_for_the_user_says_which_permission(sf_connection, wire):
    wire.salesforce_login_fault("API_CURRENTLY_DISABLED")

    result = connection_test.test_connection(sf_connection)

    assert not result.ok
    assert "not enabled for this user" in result.message and "'API Enabled' permission" in result.message


def test_salesforce_host_that_does_not_resolve_is_named(sf_connection):
    sf_connection.login_url = "https://no-such-host.invalid"

    result = connection_test.test_connection(sf_connection)

    assert not result.ok
    assert "Cannot reach no-such-host.invalid: the host name does not resolve" in result.message


def test_missing_ca_bundle_file_is_named_not_an_unexpected_error(sf_connection, entra_connection, wire, tmp_path):
    """The emulators write a new CA file on each start: a path saved earlier can vanish."""
    gone = str(tmp_path / "gone.pem")
    sf_connection.ca_bundle = entra_connection.ca_bundle = gone

    for result in (connection_test.test_connection(sf_connection), connection_test.test_connection(entra_connection)):
        assert not result.ok
        assert f"the CA bundle {gone} does not exist or cannot be read" in result.message
        assert "clear it to use the system trust store" in result.message
    assert not wire.requests


def test_ca_bundle_without_a_certificate_is_named(sf_connection, wire, tmp_path):
    bundle = tmp_path / "not-a-ca.pem"
    bundle.write_text("just text\n")
    sf_connection.ca_bundle = str(bundle)

    result = connection_test.test_connection(sf_connection)

    assert not result.ok
    assert f"the CA bundle {bundle} holds no usable certificate" in result.message
    assert "PEM" in result.message
