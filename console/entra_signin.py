"""Sign-in with Microsoft Entra ID: OpenID Connect authorization-code flow with PKCE.

msal runs the protocol (the authorization request with state, a nonce and an S256 code challenge; the code
redemption with the verifier; state and nonce checked on the way back). msal leaves the ID token unvalidated, so
`validate_id_token` checks it as OpenID Connect requires: its RS256 signature against the tenant's published keys
(JWKS), the issuer, the audience (our client id), the tenant and its lifetime. The console's roles then come
from the token: the app roles of the console's app registration (`roles`) or its security groups (`groups`).

Configured from the environment (README, "Sign-in with Microsoft Entra ID"); without ENTRA_SIGNIN_CLIENT_ID the
sign-in page offers local accounts only.
"""

from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import jwt
import msal
import requests
from django.conf import settings
from django.http import HttpRequest

from connections.clients.graph import secret_fingerprint
from connections.clients.http import build_session
from console.permissions import APPLICATION_ADMINISTRATOR, REPORTS_READER

logger = logging.getLogger(__name__)

FLOW_SESSION_KEY = "entra_signin_flow"
CLOCK_SKEW_SECONDS = 120
GROUPS_OVERAGE = "groups are too many for the token"


class SignInError(Exception):
    """The sign-in did not succeed; the message says why and what to do (no secret, no token in it)."""


@dataclass(frozen=True)
class SignInConfig:
    tenant_id: str
    client_id: str
    client_secret: str
    authority_host: str
    ca_bundle: str
    administrator_roles: tuple[str, ...]
    reader_roles: tuple[str, ...]
    administrator_groups: tuple[str, ...]
    reader_groups: tuple[str, ...]

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"

    @property
    def cache_key(self) -> tuple[str, ...]:
        return (self.authority, self.client_id, secret_fingerprint(self.client_secret), self.ca_bundle)


def config() -> SignInConfig | None:
    """The sign-in configuration, or None when sign-in with Entra ID is not set up."""
    raw = getattr(settings, "ENTRA_SIGNIN", None) or {}
    if not raw.get("client_id"):
        return None
    return SignInConfig(
        tenant_id=raw["tenant_id"],
        client_id=raw["client_id"],
        client_secret=raw["client_secret"],
        authority_host=raw["authority_host"],
        ca_bundle=raw.get("ca_bundle", ""),
        administrator_roles=tuple(raw.get("administrator_roles", ())),
        reader_roles=tuple(raw.get("reader_roles", ())),
        administrator_groups=tuple(g.lower() for g in raw.get("administrator_groups", ())),
        reader_groups=tuple(g.lower() for g in raw.get("reader_groups", ())),
    )


def is_enabled() -> bool:
    return config() is not None


# --- the msal application and the tenant's keys, per configuration ------------------------------------------------
_lock = threading.Lock()
_applications: dict[tuple[str, ...], tuple[msal.ConfidentialClientApplication, requests.Session]] = {}
_metadata: dict[tuple[str, ...], dict[str, Any]] = {}
_keys: dict[tuple[str, ...], jwt.PyJWKSet] = {}


def _application(cfg: SignInConfig) -> tuple[msal.ConfidentialClientApplication, requests.Session]:
    with _lock:
        if cfg.cache_key not in _applications:
            session = build_session(cfg.ca_bundle)
            application = msal.ConfidentialClientApplication(
                cfg.client_id,
                client_credential=cfg.client_secret,
                authority=cfg.authority,
                instance_discovery=False,  # a single-tenant authority: nothing to discover
                http_client=session,
            )
            _applications[cfg.cache_key] = (application, session)
        return _applications[cfg.cache_key]


def forget_cached_clients() -> None:
    """Drop cached applications, discovery documents and keys (tests; a key rotation refreshes them by itself)."""
    with _lock:
        _applications.clear()
        _metadata.clear()
        _keys.clear()


def _discovery(cfg: SignInConfig) -> dict[str, Any]:
    if cfg.cache_key not in _metadata:
        _, session = _application(cfg)
        document = _get_json(session, f"{cfg.authority}/v2.0/.well-known/openid-configuration", "discovery document")
        if not document.get("issuer") or not document.get("jwks_uri"):
            raise SignInError("The tenant's OpenID configuration has no issuer or jwks_uri: check the authority host.")
        _metadata[cfg.cache_key] = document
    return _metadata[cfg.cache_key]


def _signing_key(cfg: SignInConfig, kid: str) -> jwt.PyJWK:
    """The tenant's key with this kid; the key set is fetched again once when the kid is new (key rotation)."""
    for attempt in range(2):
        if attempt or cfg.cache_key not in _keys:
            _, session = _application(cfg)
            _keys[cfg.cache_key] = jwt.PyJWKSet.from_dict(
                _get_json(session, _discovery(cfg)["jwks_uri"], "signing keys (JWKS)")
            )
        for key in _keys[cfg.cache_key].keys:
            if key.key_id == kid:
                return key
    raise SignInError("The ID token is signed with a key the tenant does not publish; sign-in refused.")


def _get_json(session: requests.Session, url: str, what: str) -> dict[str, Any]:
    try:
        response = session.get(url)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        logger.warning("Entra sign-in: reading the %s at %s failed: %s", what, url, type(exc).__name__)
        raise SignInError(
            f"Microsoft Entra ID could not be reached to read its {what}. Try again; if it persists, check "
            "ENTRA_SIGNIN_AUTHORITY_HOST and ENTRA_SIGNIN_CA_BUNDLE."
        ) from None
    if not isinstance(document, dict):
        raise SignInError(f"Microsoft Entra ID answered its {what} with something other than a JSON object.")
    return document


# --- the flow -----------------------------------------------------------------------------------------------------
def begin(request: HttpRequest, redirect_uri: str, login_hint: str = "") -> str:
    """Start a sign-in: keep the flow (state, nonce, PKCE verifier) in the session; return the address to send
    the browser to."""
    cfg = config()
    if cfg is None:
        raise SignInError("Sign-in with Microsoft Entra ID is not configured on this console.")
    application, _ = _application(cfg)
    with warnings.catch_warnings():
        # msal recommends form_post; the answer then arrives as a cross-site POST, which carries no SameSite=Lax
        # session cookie, so the flow kept in the session would be lost. The code in the query string is single
        # use and bound to our PKCE verifier.
        warnings.simplefilter("ignore", UserWarning)
        flow = application.initiate_auth_code_flow(
            scopes=[], redirect_uri=redirect_uri, login_hint=login_hint or None, response_mode="query"
        )
    request.session[FLOW_SESSION_KEY] = flow
    return flow["auth_uri"]


@dataclass(frozen=True)
class EntraIdentity:
    tenant_id: str
    object_id: str
    username: str
    name: str
    email: str
    roles: tuple[str, ...]  # the console's roles this person holds (Django group names)


def complete(request: HttpRequest) -> EntraIdentity:
    """Finish the sign-in from the redirect's query string: redeem the code, validate the ID token, read the
    roles. Raises SignInError with what to do."""
    cfg = config()
    if cfg is None:
        raise SignInError("Sign-in with Microsoft Entra ID is not configured on this console.")
    flow = request.session.pop(FLOW_SESSION_KEY, None)
    answer = {key: request.GET.get(key) for key in request.GET}
    if answer.get("error"):
        description = (answer.get("error_description") or "").split("\r\n")[0].split("\n")[0]
        raise SignInError(f"Microsoft Entra ID did not sign you in: {description or answer['error']}")
    if not flow:
        raise SignInError("This sign-in was not started here or has already been used. Start again.")
    application, _ = _application(cfg)
    try:
        result = application.acquire_token_by_auth_code_flow(flow, answer)
    except ValueError:  # state mismatch: an answer to another sign-in (or a forged one)
        raise SignInError("The answer from Microsoft Entra ID does not belong to this sign-in. Start again.")
    except RuntimeError:  # msal's nonce check
        raise SignInError("The ID token does not carry this sign-in's nonce; sign-in refused. Start again.")
    except requests.RequestException:
        raise SignInError("Microsoft Entra ID could not be reached to finish the sign-in. Try again.")
    if "error" in result:
        description = (result.get("error_description") or result["error"]).split("\r\n")[0].split("\n")[0]
        raise SignInError(f"Microsoft Entra ID refused to finish the sign-in: {description}")
    if "id_token" not in result:
        raise SignInError("Microsoft Entra ID returned no ID token; the openid scope was not granted.")
    claims = validate_id_token(cfg, result["id_token"], expected_nonce=result["id_token_claims"].get("nonce"))
    return identity_from_claims(cfg, claims)


def validate_id_token(cfg: SignInConfig, token: str, expected_nonce: str | None) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, tenant, lifetime and nonce are checked."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise SignInError("The ID token from Microsoft Entra ID is not a well-formed JWT; sign-in refused.")
    if header.get("alg") != "RS256":
        raise SignInError(f"The ID token is signed with {header.get('alg')!r}, not RS256; sign-in refused.")
    key = _signing_key(cfg, header.get("kid", ""))
    issuer = _discovery(cfg)["issuer"].replace("{tenantid}", cfg.tenant_id)
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            audience=cfg.client_id,
            issuer=issuer,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "oid", "tid"]},
        )
    except jwt.ExpiredSignatureError:
        raise SignInError("The ID token has expired; check this server's clock and sign in again.")
    except jwt.InvalidAudienceError:
        raise SignInError("The ID token was issued to another application; check ENTRA_SIGNIN_CLIENT_ID.")
    except jwt.InvalidIssuerError:
        raise SignInError("The ID token comes from another issuer than this tenant; check ENTRA_SIGNIN_TENANT_ID.")
    except jwt.PyJWTError as exc:
        raise SignInError(f"The ID token is not valid ({type(exc).__name__}); sign-in refused.")
    if claims["tid"].lower() != cfg.tenant_id.lower():
        raise SignInError("The ID token belongs to another tenant; sign-in refused.")
    if expected_nonce is None or claims.get("nonce") != expected_nonce:
        raise SignInError("The ID token does not carry this sign-in's nonce; sign-in refused.")
    return claims


def role_names(cfg: SignInConfig) -> str:
    """The app roles to ask for, as the refusal page names them."""
    wanted = [f"{value} ({APPLICATION_ADMINISTRATOR})" for value in cfg.administrator_roles[:1]]
    wanted += [f"{value} ({REPORTS_READER})" for value in cfg.reader_roles[:1]]
    return "the app role " + " or ".join(wanted) if wanted else "an app role"


def identity_from_claims(cfg: SignInConfig, claims: dict[str, Any]) -> EntraIdentity:
    """Who signed in and which of the console's roles the token grants (app roles first, then groups)."""
    app_roles = {str(role) for role in claims.get("roles") or []}
    groups = {str(group).lower() for group in claims.get("groups") or []}
    roles = []
    if app_roles & set(cfg.administrator_roles) or groups & set(cfg.administrator_groups):
        roles.append(APPLICATION_ADMINISTRATOR)
    if app_roles & set(cfg.reader_roles) or groups & set(cfg.reader_groups):
        roles.append(REPORTS_READER)
    overage = "groups" in (claims.get("_claim_names") or {}) or claims.get("hasgroups")
    if not roles and overage and (cfg.administrator_groups or cfg.reader_groups):
        raise SignInError(
            "You are a member of more groups than Microsoft Entra ID puts in a sign-in token, so the console cannot "
            f"see whether you are in its groups. Ask for {role_names(cfg)} of the console's app registration instead."
        )
    username = str(claims.get("preferred_username") or claims["oid"])
    return EntraIdentity(
        tenant_id=str(claims["tid"]).lower(),
        object_id=str(claims["oid"]).lower(),
        username=username,
        name=str(claims.get("name") or ""),
        email=str(claims.get("email") or (username if "@" in username else "")),
        roles=tuple(roles),
    )
