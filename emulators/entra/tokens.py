"""Entra's v2.0 endpoints that msal uses: tenant discovery, instance discovery and client-credentials tokens."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from emulators.server import Request, Response

if TYPE_CHECKING:
    from emulators.entra.app import EntraApp

TOKEN_LIFETIME = 3599
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def aad_error(status: int, error: str, code: int, description: str, headers: dict[str, str] | None = None) -> Response:
    """The JSON error body of the Microsoft identity platform (msal returns it as a dict)."""
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return Response.json(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}"
            f"\r\nTimestamp: {stamp}",
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        },
        status,
        headers,
    )


class TokenRoutes:
    def __init__(self, app: EntraApp) -> None:
        self.app = app
        r = app.router
        r.add(
            "GET",
            r"/common/discovery/instance",
            "GET /common/discovery/instance",
            self.instance_discovery,
            faultable=False,
        )
        r.add(
            "GET",
            r"/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration",
            "GET /TENANT/v2.0/.well-known/openid-configuration",
            self.openid_configuration,
            faultable=False,
        )
        r.add(
            "POST",
            r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token",
            "POST /TENANT/oauth2/v2.0/token",
            self.token,
            faultable=False,
        )

    @property
    def state(self):
        return self.app.state

    def known_tenant(self, tenant: str) -> bool:
        return tenant.lower() in (self.state.tenant_id, self.state.domain.lower())

    def tenant_not_found(self, tenant: str) -> Response:
        return aad_error(
            400,
            "invalid_tenant",
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the "
            "correct tenant ID and are signing into the correct cloud. Check with your subscription "
            "administrator, this may happen if there are no active subscriptions for the tenant.",
        )

    def instance_discovery(self, request: Request) -> Response:
        host = request.base_url.split("://", 1)[1]
        # the tenant comes from the authorization endpoint msal asks about (https://HOST/TENANT/oauth2/v2.0/authorize)
        endpoint = request.query.get("authorization_endpoint", "")
        tenant = endpoint.split("://", 1)[-1].split("/")[1] if endpoint.count("/") >= 3 else "common"
        return Response.json(
            {
                "tenant_discovery_endpoint": f"{request.base_url}/{tenant}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
            }
        )

    def openid_configuration(self, request: Request) -> Response:
        tenant = request.params["tenant"]
        if not self.known_tenant(tenant):
            return self.tenant_not_found(tenant)
        base, tid = request.base_url, self.state.tenant_id
        browser = self.app.browser_url or base  # the pages a browser opens (see emulators/entra/signin.py)
        return Response.json(
            {
                "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{base}/{tid}/v2.0",
                "request_uri_parameter_supported": False,
                "authorization_endpoint": f"{browser}/{tid}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{browser}/{tid}/oauth2/v2.0/logout",
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "auth_time",
                    "acr",
                    "nonce",
                    "preferred_username",
                    "name",
                    "tid",
                    "ver",
                    "at_hash",
                    "c_hash",
                    "email",
                ],  # fmt: skip
                "tenant_region_scope": "EU",
                "cloud_instance_name": "microsoftonline.com",
                "msgraph_host": "graph.microsoft.com",
            },
            headers={"Cache-Control": "max-age=86400, private"},
        )

    def token(self, request: Request) -> Response:
        tenant = request.params["tenant"]
        if not self.known_tenant(tenant):
            return self.tenant_not_found(tenant)
        if self.state.throttle_token_endpoint > 0:
            self.state.throttle_token_endpoint -= 1
            retry = str(self.app.faults.retry_after)
            return aad_error(
                429,
                "temporarily_unavailable",
                50196,
                "The server encountered an unexpected error: too many requests, please retry later.",
                {"Retry-After": retry},
            )
        form = request.form()
        if form.get("grant_type") == "authorization_code":
            return self.app.signin.redeem(request, form)
        if form.get("grant_type") != "client_credentials":
            return aad_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        client_id = form.get("client_id", "")
        if not client_id:
            return aad_error(
                400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'."
            )
        client = self.state.clients.get(client_id)
        if client is None:
            return aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not "
                f"found in the directory '{self.state.domain}'. This can happen if the application has "
                "not been installed by the administrator of the tenant or consented to by any user in the "
                "tenant. You may have sent your authentication request to the wrong tenant.",
            )
        if "client_secret" not in form:
            return aad_error(
                401,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
            )
        if form["client_secret"] != client.client_secret:
            return aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being "
                "sent in the request is the client secret value, not the client secret ID, for a secret "
                f"added to app '{client_id}'.",
            )
        if client.secret_expired:
            return aad_error(
                401,
                "invalid_client",
                7000222,
                f"The provided client secret keys for app '{client_id}' "
                "are expired. Visit the Azure portal to create new keys for your app.",
            )
        if form.get("scope", "").split() != [GRAPH_SCOPE]:
            return aad_error(
                400,
                "invalid_scope",
                70011,
                f"The provided request must include a 'scope' input "
                f"parameter. The provided value for the input parameter 'scope' is not valid. The scope "
                f"{form.get('scope', '')} is not valid.",
            )
        token = self.issue(client_id)
        return Response.json(
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "ext_expires_in": TOKEN_LIFETIME,
                "access_token": token,
            }
        )

    def issue(self, client_id: str) -> str:
        now = int(time.time())
        header = base64.urlsafe_b64encode(b'{"typ":"JWT","alg":"none"}').decode().rstrip("=")
        claims: dict[str, Any] = {
            "aud": "https://graph.microsoft.com",
            "tid": self.state.tenant_id,
            "appid": client_id,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "roles": ["User.Read.All"],
        }
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        token = f"{header}.{payload}.{secrets.token_urlsafe(32)}"
        self.state.tokens[token] = (client_id, time.time() + TOKEN_LIFETIME)
        return token
