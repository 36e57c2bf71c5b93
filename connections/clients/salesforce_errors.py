"""Salesforce's answers turned into the closed error set, with messages that say what to do.

Codes and bodies: SOAP login faults (sf:exceptionCode), OAuth token errors ({"error", "error_description"}),
REST errors (a JSON list of {"errorCode", "message", "fields"}) and per-record collection results
({"success", "errors": [{"statusCode", ...}]}).
"""

from __future__ import annotations

from typing import Any

from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError

from connections.clients.errors import (
    AlreadyExists,
    AuthenticationError,
    BadRequest,
    NotFound,
    RemoteError,
    RequestLimitExceeded,
    SessionExpired,
    StopError,
    TransientError,
)

LOGIN_ADVICE: dict[str, tuple[str, str]] = {
    "INVALID_LOGIN": (
        "Salesforce refused the sign-in: the Admin Username, Admin Password or Secret Token is wrong, "
        "or the user is locked out.",
        "Check all three. Resetting the password issues a new security token (Salesforce: Settings > "
        "Reset My Security Token), so enter the new token too.",
    ),
    "LOGIN_MUST_USE_SECURITY_TOKEN": (
        "Salesforce requires the security token for sign-ins from this network address.",
        "Enter the Secret Token (Salesforce: Settings > Reset My Security Token sends it by email), or switch "
        "to OAuth client credentials if the org no longer issues tokens.",
    ),
    "API_DISABLED_FOR_ORG": (
        "The Salesforce API is not enabled for this org or this user.",
        "Use an edition with API access and give the admin user's profile the 'API Enabled' permission.",
    ),
    "API_CURRENTLY_DISABLED": (
        "The Salesforce API is not enabled for this user.",
        "Give the admin user's profile or a permission set the 'API Enabled' permission.",
    ),
    "UNSUPPORTED_API_VERSION": (
        "Salesforce does not offer this API version for sign-in.",
        "Versions 30.0 and lower are retired and SOAP login ends at 64.0: set the API version between 31.0 and "
        "64.0, or use OAuth client credentials.",
    ),
    "INVALID_OPERATION_WITH_EXPIRED_PASSWORD": (
        "The admin user's Salesforce password has expired.",
        "Sign in to Salesforce as that user, set a new password, then enter it and the new security token here.",
    ),
    "PASSWORD_LOCKOUT": (
        "The admin user is locked out after too many failed sign-ins.",
        "Unlock the user in Salesforce Setup > Users, then test again with the correct credentials.",
    ),
}

OAUTH_ADVICE: dict[str, tuple[str, str]] = {
    "invalid_client": (
        "Salesforce rejected the connected app's consumer key or consumer secret.",
        "Copy both again from the connected app (Setup > App Manager > View > Manage Consumer Details).",
    ),
    "invalid_client_id": (
        "Salesforce does not know this consumer key.",
        "Copy the consumer key again from the connected app.",
    ),
    "invalid_grant": (
        "Salesforce refused the client credentials grant.",
        "In the connected app's policies enable the Client Credentials Flow and choose a 'Run As' user "
        "with the System Administrator profile.",
    ),
    "unsupported_grant_type": (
        "The connected app does not allow the client credentials flow.",
        "Enable 'Client Credentials Flow' in the connected app's OAuth settings.",
    ),
    "invalid_request": (
        "Salesforce refused the token request.",
        "Client credentials only work at the org's My Domain address (https://<name>.sandbox.my.salesforce.com): "
        "use it as the login URL.",
    ),
}


def login_error(exc: SalesforceAuthenticationFailed, request: str) -> RemoteError:
    """A failed SOAP login or OAuth token request."""
    code = exc.code
    detail = str(exc.auth_message or "").strip()[:300]
    if isinstance(code, int) or (isinstance(code, str) and code.isdigit()):
        status = int(code)
        if status >= 500:
            return TransientError(
                f"The Salesforce login endpoint answered HTTP {status}.",
                code=f"HTTP_{status}",
                recommendation="Salesforce may be in maintenance; the call will be retried.",
                request=request,
            )
        return AuthenticationError(
            f"The login URL did not answer like a Salesforce login endpoint (HTTP {status}).",
            code=f"HTTP_{status}",
            recommendation="Check the login URL: https://test.salesforce.com for sandboxes, or the org's My Domain "
            "address such as https://acme--uat.sandbox.my.salesforce.com.",
            request=request,
        )
    code = str(code or "UNKNOWN_EXCEPTION_CODE")
    message, advice = (
        LOGIN_ADVICE.get(code)
        or OAUTH_ADVICE.get(code)
        or (
            f"Salesforce refused the sign-in ({code}): {detail}",
            "Check the admin credentials and the login URL.",
        )
    )
    if code in OAUTH_ADVICE and detail:
        message = f"{message} (Salesforce says: {detail})"
    return AuthenticationError(f"{message} [{code}]", code=code, recommendation=advice, request=request)


def _first_error(content: Any) -> tuple[str, str, list[str]]:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        item = content[0]
        return (
            str(item.get("errorCode") or item.get("statusCode") or ""),
            str(item.get("message") or ""),
            list(item.get("fields") or []),
        )
    if isinstance(content, dict):
        return str(content.get("errorCode") or content.get("error") or ""), str(content.get("message") or ""), []
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return "", str(content or "")[:300], []


def rest_error(exc: SalesforceError, request: str) -> RemoteError:
    """An HTTP error answer from the REST API."""
    status = int(exc.status or 0)
    code, text, _fields = _first_error(exc.content)
    described = f"{text} [{code or f'HTTP {status}'}]"
    if status == 401:
        return SessionExpired(f"Salesforce session expired or invalid. {described}", request=request)
    if code == "REQUEST_LIMIT_EXCEEDED":
        return request_limit_error(text, described, request)
    if code == "UNABLE_TO_LOCK_ROW" or status == 429 or status >= 500:
        return TransientError(
            f"Salesforce is busy: {described}",
            code=code or f"HTTP_{status}",
            recommendation="Retried later.",
            request=request,
            throttled=status == 429,
        )
    if status == 403:
        return StopError(
            f"Salesforce refused the request: {described}",
            code=code or "FORBIDDEN",
            recommendation="Give the admin user's profile 'API Enabled', 'Manage Users' and 'View Setup and "
            "Configuration'.",
            request=request,
        )
    if status == 404:
        return NotFound(f"Not found in Salesforce: {described}", code=code or "NOT_FOUND", request=request)
    if code.startswith("DUPLICATE_"):
        return AlreadyExists(f"Already exists in Salesforce: {described}", code=code, request=request)
    return BadRequest(f"Salesforce refused the request: {described}", code=code or f"HTTP_{status}", request=request)


def request_limit_error(text: str, described: str, request: str) -> RemoteError:
    """REQUEST_LIMIT_EXCEEDED (HTTP 403) names the limit in its message: "ConcurrentPerOrgLongTxn Limit exceeded." is
    too many long-running requests at once (wait and retry); anything else, "TotalRequests Limit exceeded." above all,
    is the org's rolling 24-hour allowance, which no retry within the cycle gets back."""
    if "concurrent" in text.lower():
        return TransientError(
            f"Salesforce is running too many long requests of this org at once: {described}",
            code="REQUEST_LIMIT_EXCEEDED",
            recommendation="Retried after a pause.",
            request=request,
            throttled=True,
        )
    return RequestLimitExceeded(
        f"Salesforce's daily API allowance of this org is used up: {described}",
        code="REQUEST_LIMIT_EXCEEDED",
        recommendation="The cycle is paused and resumes by itself once the org's rolling 24-hour allowance frees up "
        "(Setup > System Overview > API Usage shows it).",
        request=request,
    )


def oauth_failure(status: int, body: Any, request: str) -> RemoteError:
    """A non-200 answer from /services/oauth2/token."""
    if status >= 500 or status == 429:
        return TransientError(
            f"The Salesforce token endpoint answered HTTP {status}.", code=f"HTTP_{status}", request=request
        )
    if not isinstance(body, dict):
        return login_error(SalesforceAuthenticationFailed(status, ""), request)
    return login_error(
        SalesforceAuthenticationFailed(str(body.get("error") or status), str(body.get("error_description") or "")),
        request,
    )
