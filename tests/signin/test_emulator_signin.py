"""The Entra emulator's sign-in endpoints behave as the Microsoft identity platform v2.0 documents them, driven by
the unchanged msal: authorize + sign-in page, code redemption with PKCE, a signed ID token with the documented
claims, single-use codes, and the errors a misconfigured client meets."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import msal
import pytest
import requests

from tests.signin.helpers import PASSWORD, authorize

REDIRECT = "http://127.0.0.1:8765/login/entra/callback/"
# The tests ask for query on purpose, as the console does (see console/entra_signin.py).
pytestmark = pytest.mark.filterwarnings("ignore:response_mode=.form_post. is recommended:UserWarning")


@pytest.fixture
def signin(emu):
    emu.control.register_redirect_uri(REDIRECT)
    info = emu.info["signin"]
    app = msal.ConfidentialClientApplication(
        info["client_id"],
        client_credential=info["client_secret"],
        authority=f"{info['authority_host']}/{info['tenant_id']}",
        instance_discovery=False,
        http_client=emu.session(),
    )
    return info, app


def _answer(response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def _keys(emu, info) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_dict(
        emu.session().get(f"{info['authority_host']}/{info['tenant_id']}/discovery/v2.0/keys").json()
    )


def test_msal_signs_in_and_the_id_token_carries_the_documented_claims(emu, signin):
    info, app = signin
    upn = f"ada.admin@{emu.info['entra']['tenant_domain']}"
    user = emu.control.create_signin_user(upn, PASSWORD, roles=["ApplicationAdministrator"])
    group = emu.control.create_group("Console operators", [user["id"]])

    flow = app.initiate_auth_code_flow(scopes=[], redirect_uri=REDIRECT, response_mode="query")
    query = parse_qs(urlsplit(flow["auth_uri"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]
    result = app.acquire_token_by_auth_code_flow(flow, _answer(authorize(flow["auth_uri"], upn)))

    assert "error" not in result, result
    token = result["id_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    key = next(k for k in _keys(emu, info).keys if k.key_id == header["kid"])
    claims = jwt.decode(token, key=key, algorithms=["RS256"], audience=info["client_id"])
    assert claims["iss"] == f"{info['authority_host']}/{info['tenant_id']}/v2.0"
    assert claims["tid"] == info["tenant_id"] and claims["oid"] == user["id"] and claims["ver"] == "2.0"
    assert claims["preferred_username"] == upn
    assert claims["roles"] == ["ApplicationAdministrator"]
    assert claims["groups"] == [group["id"]]
    assert claims["nonce"] == hashlib.sha256(flow["nonce"].encode()).hexdigest()  # msal sends the nonce hashed
    assert claims["exp"] - claims["iat"] == 3600


def test_a_person_without_an_app_role_gets_a_token_without_roles(emu, signin):
    info, app = signin
    upn = f"nobody@{emu.info['entra']['tenant_domain']}"
    emu.control.create_signin_user(upn, PASSWORD)
    flow = app.initiate_auth_code_flow(scopes=[], redirect_uri=REDIRECT, response_mode="query")
    result = app.acquire_token_by_auth_code_flow(flow, _answer(authorize(flow["auth_uri"], upn)))
    assert "roles" not in result["id_token_claims"]


def test_roles_reach_direct_members_of_an_assigned_group(emu, signin):
    info, app = signin
    upn = f"gina@{emu.info['entra']['tenant_domain']}"
    user = emu.control.create_signin_user(upn, PASSWORD)
    readers = emu.control.create_group("Console readers", [user["id"]])
    emu.control.assign_signin_role(readers["id"], "Reports Reader")
    flow = app.initiate_auth_code_flow(scopes=[], redirect_uri=REDIRECT, response_mode="query")
    result = app.acquire_token_by_auth_code_flow(flow, _answer(authorize(flow["auth_uri"], upn)))
    assert result["id_token_claims"]["roles"] == ["ReportsReader"]


def test_more_than_200_groups_give_the_overage_claim_instead(emu, signin):
    info, app = signin
    upn = f"many.groups@{emu.info['entra']['tenant_domain']}"
    user = emu.control.create_signin_user(upn, PASSWORD)
    for n in range(201):
        emu.control.create_group(f"Team {n}", [user["id"]])
    flow = app.initiate_auth_code_flow(scopes=[], redirect_uri=REDIRECT, response_mode="query")
    claims = app.acquire_token_by_auth_code_flow(flow, _answer(authorize(flow["auth_uri"], upn)))["id_token_claims"]
    assert "groups" not in claims
    assert claims["_claim_names"] == {"groups": "src1"} and "src1" in claims["_claim_sources"]


def test_wrong_password_and_unknown_account_stay_on_the_sign_in_page(emu, signin):
    info, app = signin
    upn = f"pat@{emu.info['entra']['tenant_domain']}"
    emu.control.create_signin_user(upn, PASSWORD)
    flow = app.initiate_auth_code_flow(scopes=[], redirect_uri=REDIRECT, response_mode="query")
    wrong = authorize(flow["auth_uri"], upn, "not-the-password")
    assert wrong.status_code == 400 and "AADSTS50126" in wrong.text
    unknown = authorize(flow["auth_uri"], f"ghost@{emu.info['entra']['tenant_domain']}")
    assert unknown.status_code == 400 and "AADSTS50034" in unknown.text


def test_an_unregistered_redirect_uri_is_refused_on_the_page_not_redirected(emu, signin):
    info, app = signin
    flow = app.initiate_auth_code_flow(scopes=[], redirect_uri="https://evil.example/callback", response_mode="query")
    page = requests.get(flow["auth_uri"], allow_redirects=False)
    assert page.status_code == 400 and "AADSTS50011" in page.text and "Location" not in page.headers


def _code(emu, info, upn, challenge: str | None = None) -> str:
    params = {"client_id": info["client_id"], "response_type": "code", "redirect_uri": REDIRECT,
              "scope": "openid profile", "state": "s1", "nonce": "n1"}  # fmt: skip
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    url = f"{info['browser_url']}/{info['tenant_id']}/oauth2/v2.0/authorize?{urlencode(params)}"
    answer = _answer(authorize(url, upn))
    assert answer["state"] == "s1"
    return answer["code"]


def _redeem(emu, info, code: str, **extra: str):
    form = {"grant_type": "authorization_code", "client_id": info["client_id"], "client_secret": info["client_secret"],
            "code": code, "redirect_uri": REDIRECT, **extra}  # fmt: skip
    return emu.session().post(f"{info['authority_host']}/{info['tenant_id']}/oauth2/v2.0/token", data=form)


def test_a_code_is_redeemed_once(emu, signin):
    info, _ = signin
    upn = f"once@{emu.info['entra']['tenant_domain']}"
    emu.control.create_signin_user(upn, PASSWORD)
    code = _code(emu, info, upn)
    first = _redeem(emu, info, code)
    assert first.status_code == 200 and "id_token" in first.json()
    again = _redeem(emu, info, code)
    assert (
        again.status_code == 400 and again.json()["error"] == "invalid_grant" and again.json()["error_codes"] == [54005]
    )


def test_pkce_verifier_must_match_the_challenge(emu, signin):
    info, _ = signin
    upn = f"pkce@{emu.info['entra']['tenant_domain']}"
    emu.control.create_signin_user(upn, PASSWORD)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    missing = _redeem(emu, info, _code(emu, info, upn, challenge))
    assert missing.status_code == 400 and "code_verifier" in missing.json()["error_description"]
    wrong = _redeem(emu, info, _code(emu, info, upn, challenge), code_verifier=secrets.token_urlsafe(48))
    assert wrong.json()["error_codes"] == [501481]
    right = _redeem(emu, info, _code(emu, info, upn, challenge), code_verifier=verifier)
    assert right.status_code == 200
    claims = json.loads(base64.urlsafe_b64decode(right.json()["id_token"].split(".")[1] + "=="))
    assert claims["nonce"] == "n1"


def test_a_wrong_client_secret_and_another_redirect_uri_are_refused(emu, signin):
    info, _ = signin
    upn = f"sec@{emu.info['entra']['tenant_domain']}"
    emu.control.create_signin_user(upn, PASSWORD)
    bad_secret = _redeem(emu, info, _code(emu, info, upn), client_secret="nope")
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    other_uri = _redeem(emu, info, _code(emu, info, upn), redirect_uri="http://127.0.0.1:1/other")
    assert other_uri.json()["error_codes"] == [500112]


def test_discovery_names_the_browser_pages_and_the_keys(emu, signin):
    info, _ = signin
    document = (
        emu.session().get(f"{info['authority_host']}/{info['tenant_id']}/v2.0/.well-known/openid-configuration").json()
    )
    assert document["authorization_endpoint"] == f"{info['browser_url']}/{info['tenant_id']}/oauth2/v2.0/authorize"
    assert document["jwks_uri"].endswith(f"/{info['tenant_id']}/discovery/v2.0/keys")
    assert document["issuer"] == f"{info['authority_host']}/{info['tenant_id']}/v2.0"
