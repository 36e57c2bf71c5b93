"""SalesforceClient against recorded Salesforce answers on a local HTTPS server."""

from __future__ import annotations

import pytest
from requests import Response
from requests.adapters import HTTPAdapter

from connections.clients.errors import (
    AlreadyExists,
    AuthenticationError,
    BadRequest,
    NotFound,
    RequestLimitExceeded,
    SessionExpired,
    StopError,
    TransientError,
)
from connections.clients.http import RetryBudget
from connections.clients.salesforce import SalesforceClient, soql_quote
from connections.models import SalesforceAuthMethod
from tests.connections.conftest import SF_CONSUMER_SECRET, SF_PASSWORD, SF_TOKEN
from tests.connections.wire import SOAP_FAULT, Reply

API = "/services/data/v59.0"
LIMIT = {"Sforce-Limit-Info": "api-usage=18/15000"}
EXPIRED = Reply(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])


def ok_query(records, done=True, next_url=None):
    body = {"totalSize": len(records), "done": done, "records": records}
    if next_url:
        body["nextRecordsUrl"] = next_url
    return Reply(200, body, LIMIT)


def user(i, **extra):
    return {"attributes": {"type": "User", "url": f"{API}/sobjects/User/005{i:015d}"}, "Id": f"005{i:015d}", **extra}


@pytest.fixture
def client(sf_connection, no_sleep):
    c = SalesforceClient(sf_connection)
    no_sleep(c)
    return c


def test_login_posts_soap_to_the_configured_login_url_with_password_and_token(client, wire):
    wire.salesforce_login_ok()

    client.login()

    login = wire.calls("POST", "/services/Soap/u/59.0")[0]
    assert f"<n1:password>{SF_PASSWORD}{SF_TOKEN}</n1:password>".encode() in login.body
    assert b"<n1:username>admin@acme.com.uat</n1:username>" in login.body
    assert client.instance == f"127.0.0.1:{wire.port}"
    assert client.calls == 1


def test_login_escapes_markup_in_password_and_token(client, wire, sf_connection):
    sf_connection.set_secret("admin_password", "a<b&c")
    sf_connection.set_secret("security_token", "t<k")
    wire.salesforce_login_ok()

    client.login()

    assert b"<n1:password>a&lt;b&amp;ct&lt;k</n1:password>" in wire.calls("POST")[0].body


def test_query_follows_next_records_url_and_strips_attributes(client, wire):
    wire.salesforce_login_ok()
    wire.add(
        "GET",
        f"{API}/query/",
        ok_query(
            [user(1, Profile={"attributes": {"type": "Profile"}, "Name": "Standard User"})],
            False,
            f"{API}/query/01gD0000002HU6KIAW-2000",
        ),
    )
    wire.add("GET", f"{API}/query/01gD0000002HU6KIAW-2000", ok_query([user(2)]))

    records = list(client.query("SELECT Id, Profile.Name FROM User"))

    assert records == [
        {"Id": "005000000000000001", "Profile": {"Name": "Standard User"}},
        {"Id": "005000000000000002"},
    ]
    assert wire.calls("GET", f"{API}/query/")[0].query["q"] == ["SELECT Id, Profile.Name FROM User"]
    assert client.api_usage == (18, 15000)
    assert client.calls == 3  # login + 2 pages


def test_expired_session_signs_in_again_once_and_retries(client, wire):
    wire.salesforce_login_ok()
    wire.add("GET", f"{API}/query/", EXPIRED, ok_query([user(1)]))

    assert [r["Id"] for r in client.query("SELECT Id FROM User")] == ["005000000000000001"]
    assert len(wire.calls("POST", "/services/Soap/u/59.0")) == 2


def test_session_that_stays_expired_gives_up_after_one_new_sign_in(client, wire):
    wire.salesforce_login_ok()
    wire.add("GET", f"{API}/query/", EXPIRED)

    with pytest.raises(SessionExpired):
        list(client.query("SELECT Id FROM User"))
    assert len(wire.calls("POST", "/services/Soap/u/59.0")) == 2
    assert len(wire.calls("GET", f"{API}/query/")) == 2


def test_transient_errors_are_retried_with_capped_backoff(client, wire, no_sleep):
    waits = no_sleep(client)
    wire.salesforce_login_ok()
    busy = Reply(503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "Service Unavailable"}])
    wire.add("GET", f"{API}/query/", busy, busy, ok_query([]))

    assert list(client.query("SELECT Id FROM User")) == []
    assert len(waits) == 2
    assert 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 2.0


def test_transient_errors_stop_after_max_retries(sf_connection, wire, no_sleep):
    client = SalesforceClient(sf_connection, max_retries=2)
    waits = no_sleep(client)
    wire.salesforce_login_ok()
    wire.add(
        "GET",
        f"{API}/query/",
        Reply(
            400, [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access to this record"}]
        ),
    )

    with pytest.raises(TransientError) as caught:
        list(client.query("SELECT Id FROM User"))
    assert caught.value.code == "UNABLE_TO_LOCK_ROW"
    assert len(waits) == 2 and len(wire.calls("GET")) == 3


def test_the_daily_request_limit_is_not_retried_and_says_the_cycle_pauses(client, wire):
    wire.salesforce_login_ok()
    wire.add(
        "GET",
        f"{API}/query/",
        Reply(
            403,
            [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}],
            {"Sforce-Limit-Info": "api-usage=15012/15000"},
        ),
    )

    with pytest.raises(RequestLimitExceeded) as caught:
        list(client.query("SELECT Id FROM User"))
    assert not isinstance(caught.value, (TransientError, StopError))  # neither retried nor quarantined
    assert caught.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert "paused" in str(caught.value) and "24-hour" in str(caught.value)
    assert caught.value.usage == (15012, 15000) and client.api_usage == (15012, 15000)
    assert len(wire.calls("GET")) == 1


def test_api_usage_is_read_from_every_answer(client, wire):
    wire.salesforce_login_ok()
    wire.add(
        "GET",
        f"{API}/query/",
        Reply(200, {"totalSize": 0, "done": True, "records": []}, {"Sforce-Limit-Info": "api-usage=18/15000"}),
    )

    list(client.query("SELECT Id FROM User"))

    assert client.api_usage == (18, 15000)


def test_retries_go_on_while_the_time_budget_allows_then_say_it_is_used_up(sf_connection, wire, no_sleep):
    client = SalesforceClient(sf_connection, retry_budget=RetryBudget(30))
    waits = no_sleep(client)
    wire.salesforce_login_ok()
    wire.add(
        "GET",
        f"{API}/query/",
        Reply(503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "x"}], {"Retry-After": "4"}),
    )

    with pytest.raises(TransientError) as caught:
        list(client.query("SELECT Id FROM User"))

    assert waits == [4.0] * 7  # 28 s of 30: an eighth wait would not fit
    assert len(wire.calls("GET")) == 8
    assert caught.value.budget_exhausted
    assert "Gave up after 8 attempts" in str(caught.value) and "retry time budget (30 seconds) is used up" in str(
        caught.value
    )


def test_locked_rows_are_sent_again_alone_while_the_budget_allows(client, wire, no_sleep):
    waits = no_sleep(client)
    wire.salesforce_login_ok()
    locked = {
        "success": False,
        "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access"}],
    }
    wire.add(
        "POST",
        f"{API}/composite/sobjects",
        Reply(200, [{"id": "005A", "success": True, "errors": []}, locked]),
        Reply(200, [locked]),
        Reply(200, [{"id": "005B", "success": True, "errors": []}]),
    )

    results = client.create_users([{"Username": "a@x.uat"}, {"Username": "b@x.uat"}])

    assert [r.id for r in results] == ["005A", "005B"] and all(r.ok for r in results)
    assert len(waits) == 2
    sent = [len(call.json()["records"]) for call in wire.calls("POST", f"{API}/composite/sobjects")]
    assert sent == [2, 1, 1]


def test_request_limit_exceeded_that_clears_lets_the_call_succeed(client, wire):
    wire.salesforce_login_ok()
    wire.add(
        "GET",
        f"{API}/query/",
        Reply(403, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "ConcurrentPerOrgLongTxn Limit exceeded."}]),
        Reply(200, {"totalSize": 0, "done": True, "records": []}),
    )

    assert list(client.query("SELECT Id FROM User")) == []
    assert len(wire.calls("GET")) == 2


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (404, "NOT_FOUND", NotFound),
        (400, "DUPLICATE_USERNAME", AlreadyExists),
        (400, "INVALID_FIELD", BadRequest),
        (400, "MALFORMED_QUERY", BadRequest),
        (405, "METHOD_NOT_ALLOWED", BadRequest),
        (403, "INSUFFICIENT_ACCESS", StopError),
    ],
)
def test_rest_errors_map_to_the_closed_set(client, wire, status, code, error):
    wire.salesforce_login_ok()
    wire.add(
        "GET", f"{API}/sobjects/User/describe", Reply(status, [{"errorCode": code, "message": "said by Salesforce"}])
    )

    with pytest.raises(error) as caught:
        client.describe_user()
    assert caught.value.code == code
    assert caught.value.request == f"GET https://127.0.0.1:{wire.port}{API}/sobjects/User/describe"


def test_find_users_escapes_values_and_chunks_the_in_clause(client, wire):
    wire.salesforce_login_ok()
    wire.add("GET", f"{API}/query/", ok_query([user(1)]))
    values = [f"user{i}@acme.com" for i in range(450)] + ["o'brien\\x@acme.com"]

    found = client.find_users("FederationIdentifier", values, ["Id", "Username"])

    queries = [c.query["q"][0] for c in wire.calls("GET", f"{API}/query/")]
    assert len(queries) == 3 and len(found) == 3
    assert queries[0].startswith("SELECT Id, Username FROM User WHERE FederationIdentifier IN ('user0@acme.com', ")
    assert "'o\\'brien\\\\x@acme.com'" in queries[2]


def test_find_users_refuses_a_field_name_that_is_not_one():
    with pytest.raises(ValueError):
        SalesforceClient.find_users(None, "Id) OR (Id", ["x"], ["Id"])  # type: ignore[arg-type]


def test_soql_quote():
    assert soql_quote("a'b\\c\nd") == "'a\\'b\\\\c\\nd'"


def test_create_users_uses_one_collection_and_maps_per_record_errors(client, wire):
    wire.salesforce_login_ok()
    wire.add(
        "POST",
        f"{API}/composite/sobjects",
        Reply(
            200,
            [
                {"id": "005000000000000001", "success": True, "errors": []},
                {
                    "id": None,
                    "success": False,
                    "errors": [
                        {"statusCode": "DUPLICATE_USERNAME", "message": "Duplicate Username.", "fields": ["Username"]}
                    ],
                },
            ],
            LIMIT,
        ),
    )

    results = client.create_users([{"Username": "a@x.com.uat"}, {"Username": "b@x.com.uat"}])

    assert [(r.ok, r.id, r.code, r.fields) for r in results] == [
        (True, "005000000000000001", "", []),
        (False, None, "DUPLICATE_USERNAME", ["Username"]),
    ]
    sent = wire.calls("POST", f"{API}/composite/sobjects")[0].json()
    assert sent == {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "User"}, "Username": "a@x.com.uat"},
            {"attributes": {"type": "User"}, "Username": "b@x.com.uat"},
        ],
    }


def _composite_echo(request):
    answers = []
    for sub in request.json()["compositeRequest"]:
        records = sub["body"]["records"]
        body = [{"id": f"005{r['Username'][1:]:0>15}", "success": True, "errors": []} for r in records]
        answers.append({"body": body, "httpHeaders": {}, "httpStatusCode": 200, "referenceId": sub["referenceId"]})
    return Reply(200, {"compositeResponse": list(reversed(answers))}, LIMIT)


def test_more_than_200_records_go_in_one_composite_call_of_up_to_5_collections(client, wire):
    wire.salesforce_login_ok()
    wire.add("POST", f"{API}/composite", _composite_echo)
    wire.add("POST", f"{API}/composite/sobjects", Reply(200, [{"id": "005LAST", "success": True, "errors": []}]))
    records = [{"Username": f"u{i}"} for i in range(1001)]

    results = client.create_users(records)

    composites = wire.calls("POST", f"{API}/composite")
    assert [len(c.json()["compositeRequest"]) for c in composites] == [5]
    assert [len(s["body"]["records"]) for s in composites[0].json()["compositeRequest"]] == [200] * 5
    assert len(wire.calls("POST", f"{API}/composite/sobjects")) == 1  # the last single record
    assert [r.id for r in results[:1000]] == [f"005{i:0>15}" for i in range(1000)]
    assert len(results) == 1001 and all(r.ok for r in results) and results[-1].id == "005LAST"
    assert client.calls == 3  # login, composite, collection


def _composite_by_method(request):
    answers = []
    for sub in request.json()["compositeRequest"]:
        records = sub["body"]["records"]
        if sub["method"] == "POST":
            body = [{"id": f"005{r['Username'][1:]:0>15}", "success": True, "errors": []} for r in records]
        else:
            body = [{"id": r["id"], "success": True, "errors": []} for r in records]
        answers.append({"body": body, "httpHeaders": {}, "httpStatusCode": 200, "referenceId": sub["referenceId"]})
    return Reply(200, {"compositeResponse": list(reversed(answers))}, LIMIT)


def test_creates_and_updates_share_composite_calls_creates_first_and_each_gets_its_own_result(client, wire):
    wire.salesforce_login_ok()
    wire.add("POST", f"{API}/composite", _composite_by_method)
    creates = [{"Username": f"u{i}"} for i in range(1800)]
    updates = [{"Id": f"005U{i:0>14}", "Title": "t"} for i in range(150)]

    created, updated = client.save_users(creates, updates)

    composites = [c.json()["compositeRequest"] for c in wire.calls("POST", f"{API}/composite")]
    assert [[(s["method"], len(s["body"]["records"])) for s in c] for c in composites] == [
        [("POST", 200)] * 5,
        [("POST", 200)] * 4 + [("PATCH", 150)],
    ]
    assert [r.id for r in created] == [f"005{i:0>15}" for i in range(1800)]
    assert [r.id for r in updated] == [f"005U{i:0>14}" for i in range(150)]
    assert client.calls == 3  # login and two Composite calls, where creates and updates apart take three


def test_locked_rows_of_a_shared_call_are_sent_again_with_their_own_kind(client, wire):
    wire.salesforce_login_ok()
    locked = {"id": None, "success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}]}

    def answer(request):
        parts = request.json()["compositeRequest"]
        bodies = [[{"id": "005C", "success": True, "errors": []}], [locked]]
        return Reply(200, {"compositeResponse": [
            {"body": body, "httpHeaders": {}, "httpStatusCode": 200, "referenceId": part["referenceId"]}
            for part, body in zip(parts, bodies, strict=True)
        ]}, LIMIT)  # fmt: skip

    wire.add("POST", f"{API}/composite", answer)
    wire.add("PATCH", f"{API}/composite/sobjects", Reply(200, [{"id": "005B", "success": True, "errors": []}]))

    created, updated = client.save_users([{"Username": "c@x.uat"}], [{"Id": "005B", "Title": "y"}])

    assert [(r.ok, r.id) for r in created + updated] == [(True, "005C"), (True, "005B")]
    assert wire.calls("PATCH")[0].json()["records"] == [{"attributes": {"type": "User"}, "id": "005B", "Title": "y"}]


def test_update_users_send_id_in_each_record(client, wire):
    wire.salesforce_login_ok()
    wire.add(
        "PATCH", f"{API}/composite/sobjects", Reply(200, [{"id": "005000000000000001", "success": True, "errors": []}])
    )

    [result] = client.update_users([{"Id": "005000000000000001", "IsActive": False}])

    assert result.ok
    assert wire.calls("PATCH")[0].json()["records"] == [
        {"attributes": {"type": "User"}, "id": "005000000000000001", "IsActive": False}
    ]


def test_locked_rows_are_sent_again(client, wire):
    wire.salesforce_login_ok()
    locked = {"id": None, "success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}]}
    wire.add(
        "PATCH",
        f"{API}/composite/sobjects",
        Reply(200, [{"id": "005A", "success": True, "errors": []}, locked]),
        Reply(200, [{"id": "005B", "success": True, "errors": []}]),
    )

    results = client.update_users([{"Id": "005A", "Title": "x"}, {"Id": "005B", "Title": "y"}])

    assert [(r.ok, r.id) for r in results] == [(True, "005A"), (True, "005B")]
    assert [len(c.json()["records"]) for c in wire.calls("PATCH")] == [2, 1]


def test_dry_run_reads_but_records_writes(sf_connection, wire):
    client = SalesforceClient(sf_connection, dry_run=True)
    wire.salesforce_login_ok()
    wire.add("GET", f"{API}/query/", ok_query([user(1)]))

    found = list(client.query("SELECT Id FROM User"))
    created = client.create_users([{"Username": f"u{i}"} for i in range(450)])
    updated = client.update_users([{"Id": "005A", "IsActive": False}])

    assert len(found) == 1
    assert all(r.ok and r.id is None for r in created + updated) and len(created) == 450
    assert not wire.calls("POST", f"{API}/composite") and not wire.calls("PATCH")
    assert [(w["method"], w["path"], len(w["records"])) for w in client.recorded_writes] == [
        ("POST", "composite/sobjects", 200),
        ("POST", "composite/sobjects", 200),
        ("POST", "composite/sobjects", 50),
        ("PATCH", "composite/sobjects", 1),
    ]


def test_profiles(client, wire):
    wire.salesforce_login_ok()
    wire.add(
        "GET", f"{API}/query/", ok_query([{"attributes": {"type": "Profile"}, "Id": "00e1", "Name": "Standard User"}])
    )

    assert client.profiles() == [{"Id": "00e1", "Name": "Standard User"}]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("INVALID_LOGIN", "resetting the password issues a new security token"),
        ("LOGIN_MUST_USE_SECURITY_TOKEN", "Enter the Secret Token"),
        ("API_DISABLED_FOR_ORG", "'API Enabled'"),
    ],
)
def test_login_faults_become_authentication_errors_that_say_what_to_do(client, wire, code, words):
    wire.salesforce_login_fault(code)

    with pytest.raises(AuthenticationError) as caught:
        client.login()
    assert caught.value.code == code
    assert words.lower() in str(caught.value).lower()
    assert caught.value.request == f"POST https://127.0.0.1:{wire.port}/services/Soap/u/59.0"
    assert len(wire.calls()) == 1  # a refused sign-in is not retried


def test_login_url_that_is_not_salesforce(client, wire):
    wire.add("POST", "/services/Soap/u/59.0", Reply(404, "<html>Not here</html>", content_type="text/html"))

    with pytest.raises(AuthenticationError) as caught:
        client.login()
    assert "login URL" in str(caught.value)


def test_client_credentials_posts_to_the_login_url(sf_connection, wire, no_sleep):
    sf_connection.auth_method = SalesforceAuthMethod.CLIENT_CREDENTIALS
    sf_connection.consumer_key = "3MVG9-key"
    sf_connection.set_secret("consumer_secret", SF_CONSUMER_SECRET)
    wire.add(
        "POST",
        "/services/oauth2/token",
        Reply(200, {"access_token": "00D!cc-token", "instance_url": wire.url, "token_type": "Bearer"}),
    )
    wire.add("GET", f"{API}/query/", ok_query([]))
    client = SalesforceClient(sf_connection)

    list(client.query("SELECT Id FROM Profile LIMIT 1"))

    token_call = wire.calls("POST", "/services/oauth2/token")[0]
    assert token_call.body.decode().split("&")[0] == "grant_type=client_credentials"
    assert wire.calls("GET")[0].headers["Authorization"] == "Bearer 00D!cc-token"


def test_client_credentials_refused(sf_connection, wire):
    sf_connection.auth_method = SalesforceAuthMethod.CLIENT_CREDENTIALS
    sf_connection.consumer_key = "3MVG9-key"
    sf_connection.set_secret("consumer_secret", SF_CONSUMER_SECRET)
    wire.add(
        "POST",
        "/services/oauth2/token",
        Reply(400, {"error": "invalid_client", "error_description": "invalid client credentials"}),
    )

    with pytest.raises(AuthenticationError) as caught:
        SalesforceClient(sf_connection).login()
    assert caught.value.code == "invalid_client"
    assert "consumer key or consumer secret" in str(caught.value)


def test_retry_after_is_honoured_when_salesforce_sends_one(client, wire, no_sleep):
    waits = no_sleep(client)
    wire.salesforce_login_ok()
    wire.add(
        "GET",
        f"{API}/query/",
        Reply(503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "x"}], {"Retry-After": "5"}),
        ok_query([]),
    )

    list(client.query("SELECT Id FROM User"))

    assert waits == [5.0]


class _RecordingAdapter(HTTPAdapter):
    """Answers every request with a login fault and remembers the URL it was sent to."""

    urls: list[str] = []

    def send(self, request, **kwargs):
        self.urls.append(request.url)
        response = Response()
        response.status_code = 500
        response._content = SOAP_FAULT.format(code="INVALID_LOGIN", message="x").encode()
        response.url = request.url
        response.request = request
        return response


@pytest.mark.parametrize(
    "login_url",
    ["https://test.salesforce.com", "https://acme--uat.sandbox.my.salesforce.com/", "https://login.salesforce.com"],
)
def test_soap_login_goes_to_the_configured_login_url(sf_connection, login_url):
    sf_connection.login_url = login_url
    client = SalesforceClient(sf_connection)
    adapter = _RecordingAdapter()
    adapter.urls = []
    client.session.mount("https://", adapter)

    with pytest.raises(AuthenticationError):
        client.login()

    assert adapter.urls == [f"{login_url.rstrip('/')}/services/Soap/u/59.0"]


def test_login_without_credentials_says_what_to_fill_in_and_calls_nothing(application, wire):
    connection = application.salesforce
    connection.login_url = wire.url

    with pytest.raises(StopError) as caught:
        SalesforceClient(connection).login()

    assert str(caught.value) == "The Salesforce connection is incomplete: fill in Admin Username, Admin Password."
    assert caught.value.code == "NOT_CONFIGURED"
    assert not wire.requests
