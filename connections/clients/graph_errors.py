"""Entra token errors and Microsoft Graph error answers turned into the closed error set."""

from __future__ import annotations

from typing import Any

import requests

from connections.clients.errors import (
    AlreadyExists,
    AuthenticationError,
    BadRequest,
    DeltaExpired,
    NotFound,
    RemoteError,
    StopError,
    TransientError,
)
from connections.clients.http import parse_retry_after

PERMISSION_ADVICE = (
    "Graph permission missing: in App registrations > API permissions add the Microsoft Graph application "
    "permissions User.Read.All, GroupMember.Read.All and Application.Read.All, then click "
    "'Grant admin consent'."
)
DELTA_EXPIRED_CODES = {"syncstatenotfound", "resyncrequired", "syncstateinvalid"}

TOKEN_ADVICE: dict[int, tuple[str, str]] = {
    7000215: (
        "Entra rejected the client secret (AADSTS7000215: invalid client secret).",
        "Enter the secret's Value (shown once when it was created), not its Secret ID: App registrations > "
        "Certificates & secrets.",
    ),
    7000222: (
        "The client secret has expired (AADSTS7000222).",
        "Create a new client secret under App registrations > Certificates & secrets and enter its Value.",
    ),
    700016: (
        "Entra does not know this application in this tenant (AADSTS700016: unknown client ID).",
        "Check the Client (application) ID under App registrations > Overview, and that the app is registered "
        "in, or consented to, this tenant.",
    ),
    90002: (
        "Entra does not know this tenant (AADSTS90002).",
        "Check the Tenant ID (Entra admin center > Overview) and the authority host.",
    ),
    70011: (
        "Entra refused the requested scope (AADSTS70011).",
        "Check the Graph endpoint setting; the token is requested for <Graph host>/.default.",
    ),
}


def tenant_unknown(tenant_id: str, authority_host: str, request: str) -> AuthenticationError:
    message, advice = TOKEN_ADVICE[90002]
    return AuthenticationError(
        f"{message[:-1]}: tenant {tenant_id} at {authority_host}.",
        code="AADSTS90002",
        recommendation=advice,
        request=request,
    )


def token_error(result: dict[str, Any], request: str) -> RemoteError:
    """An error dict returned by msal's acquire_token_for_client."""
    codes = [int(c) for c in result.get("error_codes") or [] if str(c).isdigit()]
    error = str(result.get("error") or "")
    # Keep the first line of the description: the rest is trace and correlation ids.
    description = str(result.get("error_description") or "").splitlines()[0:1]
    said = description[0][:300] if description else error
    for code in codes:
        if code in TOKEN_ADVICE:
            message, advice = TOKEN_ADVICE[code]
            return AuthenticationError(message, code=f"AADSTS{code}", recommendation=advice, request=request)
    if error in {"temporarily_unavailable", "server_error"} or 50196 in codes:
        return TransientError(f"Entra is busy: {said}", code=error or "THROTTLED", request=request)
    code = f"AADSTS{codes[0]}" if codes else (error or "TOKEN_ERROR")
    return AuthenticationError(
        f"Entra refused the token request: {said}",
        code=code,
        recommendation="Check the Tenant ID, Client ID and client secret of the app registration.",
        request=request,
    )


def graph_error(response: requests.Response, request: str) -> RemoteError:
    """A non-2xx Graph answer; the body is {"error": {"code", "message", "innerError"}}."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code") or f"HTTP_{response.status_code}")
    said = f"{str(error.get('message') or response.reason or '')[:300]} [{code}]"
    status = response.status_code
    if status == 410 or code.lower() in DELTA_EXPIRED_CODES:
        return DeltaExpired(
            f"The stored Graph delta link has expired: {said}",
            code=code,
            recommendation="A full synchronisation starts instead.",
            request=request,
        )
    if status == 429 or status >= 500:
        return TransientError(
            f"Graph is busy: {said}",
            code=code,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            recommendation="Retried after the delay Graph asks for.",
            request=request,
            throttled=status == 429,
        )
    if status == 401:
        return AuthenticationError(
            f"Graph did not accept the access token: {said}",
            code=code,
            recommendation="Check that the Graph endpoint belongs to the same cloud as the authority host.",
            request=request,
        )
    if status == 403:
        return StopError(
            f"Graph refused the request: {said}", code=code, recommendation=PERMISSION_ADVICE, request=request
        )
    if status == 404:
        return NotFound(f"Not found in Entra: {said}", code=code, request=request)
    if status == 409:
        return AlreadyExists(f"Already exists in Entra: {said}", code=code, request=request)
    return BadRequest(f"Graph refused the request: {said}", code=code, request=request)
