"""SOAP login and OAuth client credentials, driven through the real simple-salesforce."""

import pytest
from simple_salesforce import Salesforce, SalesforceLogin
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceExpiredSession

from tests.emulators.helpers import direct_client, login, password_client

pytestmark = pytest.mark.usefixtures("emulator_state_reset")


def test_soap_login_returns_a_session_on_the_emulator_itself(emulators):
    session_id, instance = login(emulators)
    assert session_id.startswith(emulators.info["salesforce"]["org_id"][:15] + "!")
    assert instance == emulators.salesforce_url.split("://")[1]


def test_wrong_password_is_invalid_login(emulators):
    with pytest.raises(SalesforceAuthenticationFailed) as err:
        login(emulators, password="wrong")
    assert err.value.code == "INVALID_LOGIN"
    assert "Invalid username, password, security token" in err.value.auth_message


def test_password_without_token_must_use_security_token(emulators):
    with pytest.raises(SalesforceAuthenticationFailed) as err:
        login(emulators, security_token="")
    assert err.value.code == "LOGIN_MUST_USE_SECURITY_TOKEN"


@pytest.mark.parametrize("code", ["API_DISABLED_FOR_ORG", "INVALID_LOGIN"])
def test_rejected_logins_carry_the_fault_code(emulators, code):
    emulators.control.reject_logins(code)
    with pytest.raises(SalesforceAuthenticationFailed) as err:
        login(emulators)
    assert err.value.code == code
    emulators.control.reject_logins(None)
    assert login(emulators)[0]


def test_expired_session_with_password_auth_logs_in_again_by_itself(emulators):
    sf = password_client(emulators)
    assert sf.auth_type == "password"
    first = sf.session_id
    emulators.control.expire_sessions()
    assert sf.query("SELECT Id FROM Profile LIMIT 1")["totalSize"] == 1
    assert sf.session_id != first
    counters = emulators.control.counters()["salesforce"]
    assert counters["POST /services/Soap/u/XX.X"] == 2


def test_expired_session_with_a_direct_session_raises(emulators):
    sf = direct_client(emulators)
    emulators.control.expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as err:
        sf.query("SELECT Id FROM User")
    assert err.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_oauth_client_credentials(emulators):
    sf = emulators.info["salesforce"]
    domain = f"{sf['login_url'].split('://')[1]}/services/oauth2/token?"
    client = Salesforce(
        consumer_key=sf["client_id"], consumer_secret=sf["client_secret"], domain=domain, session=emulators.session()
    )
    assert client.query("SELECT COUNT() FROM User")["totalSize"] >= 1
    with pytest.raises(SalesforceAuthenticationFailed) as err:
        SalesforceLogin(
            consumer_key=sf["client_id"], consumer_secret="nope", domain=domain, session=emulators.session()
        )
    assert err.value.code == "invalid_client"
