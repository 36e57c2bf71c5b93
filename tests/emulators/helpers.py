"""How a client reaches the emulators with the unchanged libraries (the same recipe the connections use)."""

from __future__ import annotations

import msal
from simple_salesforce import Salesforce, SalesforceLogin

GRAPH_SCOPE = ["https://graph.microsoft.com/.default"]


def soap_domain(login_url: str) -> str:
    """simple-salesforce builds https://{domain}.salesforce.com/services/Soap/u/{v}; this domain lands on the emulator's
    login path and leaves the rest in the query string, so the password flow (with automatic re-login) works."""
    return f"{login_url.split('://', 1)[1]}/services/Soap/u/59.0?"


def login(emu, **overrides) -> tuple[str, str]:
    sf = {**emu.info["salesforce"], **overrides}
    return SalesforceLogin(
        username=sf["username"],
        password=sf["password"],
        security_token=sf["security_token"],
        scratch_url=sf["login_url"],
        session=emu.session(),
    )


def direct_client(emu) -> Salesforce:
    sid, instance = login(emu)
    return Salesforce(instance=instance, session_id=sid, session=emu.session())


def password_client(emu) -> Salesforce:
    sf = emu.info["salesforce"]
    return Salesforce(
        username=sf["username"],
        password=sf["password"],
        security_token=sf["security_token"],
        domain=soap_domain(sf["login_url"]),
        session=emu.session(),
    )


def msal_app(emu, **overrides) -> msal.ConfidentialClientApplication:
    e = {**emu.info["entra"], **overrides}
    return msal.ConfidentialClientApplication(
        e["client_id"],
        client_credential=e["client_secret"],
        authority=f"{e['authority_host']}/{e['tenant_id']}",
        instance_discovery=False,
        http_client=emu.session(),
    )


def graph_session(emu):
    session = emu.session()
    token = msal_app(emu).acquire_token_for_client(scopes=GRAPH_SCOPE)["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def new_user(n: int, **extra) -> dict:
    """A valid Salesforce User body."""
    return {
        "Username": f"new.user{n}@contoso.com.uat",
        "LastName": f"User{n}",
        "FirstName": "New",
        "Email": f"new.user{n}@contoso.com",
        "Alias": f"nu{n}"[:8],
        "TimeZoneSidKey": "Europe/London",
        "LocaleSidKey": "en_GB",
        "EmailEncodingKey": "UTF-8",
        "LanguageLocaleKey": "en_US",
        "ProfileId": extra.pop("ProfileId"),
        **extra,
    }
