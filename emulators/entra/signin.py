"""Interactive sign-in as the Microsoft identity platform v2.0 documents it: the authorization endpoint with its
sign-in page, the authorization-code grant of the token endpoint (PKCE, single-use codes, nonce echoed), and the
tenant's signing keys (JWKS) that ID tokens are signed with (RS256).

The browser-facing pages (authorize, the sign-in form, logout) are served by EntraBrowserApp on a loopback listener
of its own in plain HTTP, so a browser reaches them without trusting the emulators' throwaway CA; discovery
publishes that address as the authorization endpoint. Everything a server calls (discovery, token, keys) stays
on the HTTPS listener.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from emulators.entra.state import EntraState, SignInApplication
from emulators.entra.tokens import aad_error
from emulators.server import EmulatorApp, Request, Response

if TYPE_CHECKING:
    from emulators.entra.app import EntraApp

CODE_LIFETIME = 600  # "authorization codes are short lived, typically about 10 minutes"
ID_TOKEN_LIFETIME = 3600
GROUPS_CLAIM_LIMIT = 200  # above this many groups a JWT carries the overage claim instead of "groups"
TENANT = r"/(?P<tenant>[^/]+)"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class SigningKey:
    """The tenant's RSA signing key, published in the JWKS; its kid is a thumbprint, as Entra's are."""

    def __init__(self) -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = _b64url(hashlib.sha1(der).digest())  # noqa: S324 (a thumbprint, not a security hash)

    def jwk(self, issuer: str) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        return {"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid, "n": _b64url(n), "e": _b64url(e),
                "issuer": issuer}  # fmt: skip

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})


def aad_page(code: int, message: str, status: int = 400) -> Response:
    """The error page the authorization endpoint shows when it cannot trust the redirect URI to report an error."""
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Sign in to your account</title></head>"
        f"<body><main><h1>Sorry, but we're having trouble signing you in.</h1><p role='alert'>AADSTS{code}: "
        f"{html.escape(message)}</p></main></body></html>"
    )
    return Response(status, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


def redirect_with(redirect_uri: str, response_mode: str, params: dict[str, str]) -> Response:
    """The answer to the client: a redirect with a query string, or for form_post a page that posts itself."""
    if response_mode == "form_post":
        fields = "".join(
            f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>" for k, v in params.items()
        )
        body = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Working...</title></head>"
            f"<body onload='document.forms[0].submit()'><form method='post' action='{html.escape(redirect_uri)}'>"
            f"{fields}<noscript><button type='submit'>Continue</button></noscript></form></body></html>"
        )
        return Response(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"})
    separator = "&" if "?" in redirect_uri else "?"
    return Response(302, b"", {"Location": f"{redirect_uri}{separator}{urlencode(params)}"})


class SignInRoutes:
    """On the HTTPS listener: the tenant's keys, and the authorization-code grant (TokenRoutes hands it over)."""

    def __init__(self, app: EntraApp) -> None:
        self.app = app
        self.key = SigningKey()  # kept across resets, as a tenant's keys outlive its data
        app.router.add(
            "GET", TENANT + r"/discovery/v2\.0/keys", "GET /TENANT/discovery/v2.0/keys", self.keys, faultable=False
        )

    @property
    def state(self) -> EntraState:
        return self.app.state

    def issuer(self, base_url: str) -> str:
        return f"{base_url}/{self.state.tenant_id}/v2.0"

    def keys(self, request: Request) -> Response:
        if not self.app.tokens.known_tenant(request.params["tenant"]):
            return self.app.tokens.tenant_not_found(request.params["tenant"])
        return Response.json({"keys": [self.key.jwk(self.issuer(request.base_url))]})

    def redeem(self, request: Request, form: dict[str, str]) -> Response:
        """grant_type=authorization_code: a confidential client redeems a code once, with its PKCE verifier."""
        error = aad_error
        client = self.state.clients.get(form.get("client_id", ""))
        if client is None:
            unknown = form.get("client_id", "")
            return error(400, "unauthorized_client", 700016, f"Application with identifier '{unknown}' was not found "
                         f"in the directory '{self.state.domain}'.")  # fmt: skip
        if not form.get("client_secret"):
            return error(401, "invalid_client", 7000218, "The request body must contain the following parameter: "
                         "'client_assertion' or 'client_secret'.")  # fmt: skip
        if form["client_secret"] != client.client_secret or client.secret_expired:
            return error(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being "
                         "sent in the request is the client secret value, not the client secret ID, for a secret "
                         f"added to app '{client.client_id}'.")  # fmt: skip
        for name in ("code", "redirect_uri"):
            if not form.get(name):
                return error(400, "invalid_request", 900144, f"The request body must contain the following "
                             f"parameter: '{name}'.")  # fmt: skip
        grant = self.state.authorization_codes.get(form["code"])
        if grant is None:
            return error(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        if grant["redeemed"]:
            return error(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry "
                         "with a new valid code or use an existing refresh token.")  # fmt: skip
        grant["redeemed"] = True  # a failed attempt spends the code too
        if grant["expires"] < time.time():
            return error(400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired "
                         "due to inactivity. Send a new interactive authorization request for this user and "
                         "resource.")  # fmt: skip
        if grant["client_id"] != client.client_id:
            return error(400, "invalid_grant", 70002, "The client does not match the one the code was issued to.")
        if grant["redirect_uri"] != form["redirect_uri"]:
            return error(400, "invalid_grant", 500112, "The reply address does not match the reply address provided "
                         "when requesting the authorization code.")  # fmt: skip
        challenge = grant.get("code_challenge")
        if challenge:
            verifier = form.get("code_verifier", "")
            if not verifier:
                return error(400, "invalid_request", 900144, "The request body must contain the following "
                             "parameter: 'code_verifier'.")  # fmt: skip
            computed = _b64url(hashlib.sha256(verifier.encode()).digest()) if grant["method"] == "S256" else verifier
            if computed != challenge:
                return error(400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge "
                             "supplied in the authorization request.")  # fmt: skip
        user = self.state.users.get(grant["user_id"])
        if user is None or not user.get("accountEnabled", True):
            return error(400, "invalid_grant", 50057, "The user account is disabled.")
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(s for s in grant["scopes"] if s != "offline_access") or "openid profile",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": self.app.tokens.issue(client.client_id),
        }
        if "openid" in grant["scopes"]:
            body["id_token"] = self.key.sign(self.id_token_claims(request, grant, user))
        if grant.get("client_info"):
            body["client_info"] = _b64url(json.dumps({"uid": user["id"], "utid": self.state.tenant_id}).encode())
        return Response.json(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def id_token_claims(self, request: Request, grant: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
        """The v2.0 ID token: who (oid, tid, preferred_username, name), for whom (aud), the nonce, roles, groups."""
        application = self.state.signin_applications.get(grant["client_id"])
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": grant["client_id"],
            "iss": self.issuer(request.base_url),
            "iat": now,
            "nbf": now,
            "exp": now + ID_TOKEN_LIFETIME,
            "aio": _b64url(secrets.token_bytes(24)),
            "name": user.get("displayName") or "",
            "oid": user["id"],
            "preferred_username": user["userPrincipalName"],
            "rh": f"0.{_b64url(secrets.token_bytes(18))}.",
            # sub is pairwise: the same person has another sub in every application
            "sub": _b64url(hashlib.sha256(f"{user['id']}|{grant['client_id']}".encode()).digest()),
            "tid": self.state.tenant_id,
            "uti": _b64url(secrets.token_bytes(16)),
            "ver": "2.0",
        }
        if grant.get("nonce"):
            claims["nonce"] = grant["nonce"]
        if application is None:
            return claims
        # App roles reach a user assigned directly or through a group they are a direct member of.
        direct_groups = [g for g, v in self.state.groups.items() if user["id"] in v["members"]]
        roles = application.role_values([user["id"], *direct_groups])
        if roles:
            claims["roles"] = roles
        if application.group_membership_claims != "None":
            groups = self.state.groups_of(user["id"], transitive=True)
            if len(groups) > GROUPS_CLAIM_LIMIT:
                claims["_claim_names"] = {"groups": "src1"}
                claims["_claim_sources"] = {
                    "src1": {"endpoint": f"https://graph.microsoft.com/v1.0/users/{user['id']}/getMemberObjects"}
                }
            elif groups:
                claims["groups"] = groups
        return claims


class EntraBrowserApp(EmulatorApp):
    """The pages a browser sees: /authorize validates the request and shows the sign-in form, /login checks the
    password and sends the browser back to the application with a code (or an error)."""

    name = "entra-browser"

    def __init__(self, entra: EntraApp) -> None:
        super().__init__()
        self.entra = entra
        self.lock = entra.lock  # one tenant, one lock
        self.pending: dict[str, dict[str, Any]] = {}  # ctx -> the authorization request awaiting a password
        r = self.router
        r.add("GET", TENANT + r"/oauth2/v2\.0/authorize", "GET /TENANT/oauth2/v2.0/authorize", self.authorize)
        r.add("POST", TENANT + r"/login", "POST /TENANT/login", self.login)
        r.add("GET", TENANT + r"/oauth2/v2\.0/logout", "GET /TENANT/oauth2/v2.0/logout", self.logout)

    @property
    def state(self) -> EntraState:
        return self.entra.state

    def not_found(self, request: Request) -> Response:
        return aad_page(900561, "The endpoint only accepts the documented requests.", 404)

    def authorize(self, request: Request) -> Response:
        tenant = request.params["tenant"]
        if not self.entra.tokens.known_tenant(tenant):
            return aad_page(90002, f"Tenant '{tenant}' not found.")
        q = request.query
        application = self.state.signin_applications.get(q.get("client_id", ""))
        if application is None:
            return aad_page(700016, f"Application with identifier '{q.get('client_id', '')}' was not found in the "
                            f"directory '{self.state.domain}'.")  # fmt: skip
        redirect_uri = q.get("redirect_uri", "")
        if redirect_uri not in application.redirect_uris:
            return aad_page(50011, f"The redirect URI '{redirect_uri}' specified in the request does not match the "
                            f"redirect URIs configured for the application '{application.client_id}'. Make sure the "
                            "redirect URI sent in the request matches one added to your application in the Azure "
                            "portal.")  # fmt: skip
        mode = q.get("response_mode", "query")

        def refuse(error: str, code: int, description: str) -> Response:
            params = {"error": error, "error_description": f"AADSTS{code}: {description}"}
            if "state" in q:
                params["state"] = q["state"]
            return redirect_with(redirect_uri, mode, params)

        if q.get("response_type") != "code":
            return refuse("unsupported_response_type", 700054, f"response_type '{q.get('response_type', '')}' is not "
                          "enabled for the application.")  # fmt: skip
        if mode not in ("query", "form_post"):
            return refuse("invalid_request", 900144, "The response_mode for the code flow must be query or form_post.")
        scopes = q.get("scope", "").split()
        if not scopes:
            return refuse("invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
        challenge, method = q.get("code_challenge", ""), q.get("code_challenge_method", "plain")
        if challenge:
            if method not in ("S256", "plain"):
                return refuse("invalid_request", 50149, "Invalid Code_Challenge_method parameter.")
            if not 43 <= len(challenge) <= 128:
                return refuse("invalid_request", 501491, "Invalid size of Code_Challenge parameter.")
        if q.get("prompt") == "none":  # the emulator keeps no browser session
            return refuse("login_required", 50058, "A silent sign-in request was sent but no user is signed in.")
        ctx = secrets.token_urlsafe(24)
        self.pending[ctx] = {
            "client_id": application.client_id, "redirect_uri": redirect_uri, "response_mode": mode,
            "state": q.get("state"), "nonce": q.get("nonce"), "scopes": scopes, "code_challenge": challenge,
            "method": method, "client_info": q.get("client_info") == "1", "expires": time.time() + CODE_LIFETIME,
        }  # fmt: skip
        return self.sign_in_page(tenant, ctx, application, q.get("login_hint", ""), "")

    def sign_in_page(self, tenant: str, ctx: str, application: SignInApplication, login: str, error: str) -> Response:
        alert = f"<p id='error' role='alert'>{html.escape(error)}</p>" if error else ""
        body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Sign in to your account</title></head><body><main>
<h1>Sign in</h1><p>to continue to {html.escape(application.display_name)}</p>{alert}
<form method="post" action="/{html.escape(tenant)}/login">
<input type="hidden" name="ctx" value="{ctx}">
<p><label for="login">Email or username</label><br><input id="login" name="login" type="email" autocomplete="username"
 value="{html.escape(login)}" required></p>
<p><label for="passwd">Password</label><br><input id="passwd" name="passwd" type="password"
 autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p></form>
<p><small>Microsoft Entra ID emulator, tenant {html.escape(self.state.domain)}</small></p></main></body></html>"""
        status = 400 if error else 200
        return Response(status, body.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def login(self, request: Request) -> Response:
        form = request.form()
        pending = self.pending.get(form.get("ctx", ""))
        if pending is None or pending["expires"] < time.time():
            return aad_page(50058, "Your sign-in took too long or was already used. Go back to the application and "
                            "sign in again.")  # fmt: skip
        application = self.state.signin_applications[pending["client_id"]]
        login = form.get("login", "").strip()
        user = self.state.find_user(login) if login else None

        def page(message: str) -> Response:
            return self.sign_in_page(request.params["tenant"], form["ctx"], application, login, message)

        if user is None:
            return page(f"AADSTS50034: The user account {login or '(empty)'} does not exist in the "
                        f"{self.state.domain} directory.")  # fmt: skip
        password = self.state.passwords.get(user["id"])
        if password is None or not secrets.compare_digest(password, form.get("passwd", "")):
            return page("AADSTS50126: Your account or password is incorrect.")
        if not user.get("accountEnabled", True):
            return page("AADSTS50057: The user account is disabled.")
        del self.pending[form["ctx"]]
        code = _b64url(secrets.token_bytes(48))
        self.state.authorization_codes[code] = {
            **pending, "user_id": user["id"], "redeemed": False, "expires": time.time() + CODE_LIFETIME,
        }  # fmt: skip
        params = {"code": code}
        if pending["state"] is not None:
            params["state"] = pending["state"]
        params["session_state"] = str(uuid.uuid4())
        return redirect_with(pending["redirect_uri"], pending["response_mode"], params)

    def logout(self, request: Request) -> Response:
        target = request.query.get("post_logout_redirect_uri", "")
        if target:
            return Response(302, b"", {"Location": target})
        body = b"<!doctype html><html lang='en'><head><title>Signed out</title></head><body><main><h1>You signed out of your account</h1></main></body></html>"  # noqa: E501
        return Response(200, body, {"Content-Type": "text/html; charset=utf-8"})
