"""A local HTTPS server that replays recorded Salesforce / Entra / Graph answers and records requests.

Real sockets, real TLS (a trustme CA), driven by the real simple-salesforce, msal and requests: only
the remote system is replaced by recorded answers (the bodies below are the wire shapes documented for
each service).
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SOAP_FAULT = """<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope
 xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>
<faultcode>sf:{code}</faultcode><faultstring>{code}: {message}</faultstring>
<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode>
<sf:exceptionMessage>{message}</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body>
</soapenv:Envelope>"""

SOAP_LOGIN_OK = """<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope
 xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>
<metadataServerUrl>{base}/services/Soap/m/59.0/00D000000000001EAA</metadataServerUrl>
<passwordExpired>false</passwordExpired><sandbox>true</sandbox>
<serverUrl>{base}/services/Soap/u/59.0/00D000000000001EAA</serverUrl>
<sessionId>{session_id}</sessionId><userId>005000000000001AAA</userId>
<userInfo><organizationId>00D000000000001EAA</organizationId><userName>admin@acme.com.uat</userName></userInfo>
</result></loginResponse></soapenv:Body></soapenv:Envelope>"""

LOGIN_FAULTS = {
    "INVALID_LOGIN": "Invalid username, password, security token; or user locked out.",
    "LOGIN_MUST_USE_SECURITY_TOKEN": "Invalid username, password, security token; or user locked out. Are you at a "
    "new location? When accessing Salesforce--either via a desktop client or the API--from outside of your "
    "company's trusted networks, you must add a security token to your password to log in.",
    "API_DISABLED_FOR_ORG": "API is not enabled for this Organization or Partner",
    "API_CURRENTLY_DISABLED": "API is disabled for this User",
    "UNSUPPORTED_API_VERSION": "UNSUPPORTED_API_VERSION",
}

TOKEN_ERRORS = {
    7000215: (
        401,
        "invalid_client",
        "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client "
        "secret value, not the client secret ID, for a secret added to app '{client_id}'.",
    ),
    7000222: (
        401,
        "invalid_client",
        "AADSTS7000222: The provided client secret keys for app '{client_id}' are expired.",
    ),
    700016: (
        400,
        "unauthorized_client",
        "AADSTS700016: Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can "
        "happen if the application has not been installed by the administrator of the tenant or consented to by any "
        "user in the tenant. You may have sent your authentication request to the wrong tenant.",
    ),
    90002: (
        400,
        "invalid_tenant",
        "AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID.",
    ),
}


def graph_error_body(code: str, message: str) -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": "2026-11-26T06:00:00", "request-id": "0f1e", "client-request-id": "0f1e"},
        }
    }


def token_error_body(aadsts: int, client_id: str, tenant: str) -> tuple[int, dict]:
    status, error, description = TOKEN_ERRORS[aadsts]
    text = description.format(client_id=client_id, tenant=tenant)
    return status, {
        "error": error,
        "error_description": f"{text}\r\nTrace ID: 3e1b\r\nCorrelation ID: 9c2d\r\nTimestamp: 2026-11-26 06:00:00Z",
        "error_codes": [aadsts],
        "timestamp": "2026-11-26 06:00:00Z",
        "trace_id": "3e1b",
        "correlation_id": "9c2d",
        "error_uri": f"https://login.microsoftonline.com/error?code={aadsts}",
    }


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON, str -> as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ReplayServer:
    """Routes (method, path) to a queue of replies; the last reply repeats. Unknown routes get 404."""

    def __init__(self, ssl_context: ssl.SSLContext | None) -> None:
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                with server.lock:
                    server.requests.append(
                        Recorded(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body)
                    )
                    queue = server.routes.get((self.command, parts.path))
                    reply = (
                        (queue.pop(0) if len(queue) > 1 else queue[0])
                        if queue
                        else Reply(404, [{"errorCode": "NOT_FOUND", "message": "no route"}])
                    )
                if callable(reply):
                    reply = reply(server.requests[-1])
                payload = (
                    reply.body
                    if isinstance(reply.body, str | bytes)
                    else json.dumps(reply.body)
                    if reply.body is not None
                    else ""
                )
                data = payload.encode() if isinstance(payload, str) else payload
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        scheme = "https" if ssl_context is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def start(self) -> ReplayServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, method: str, path: str, *replies: Reply | Any) -> None:
        with self.lock:
            self.routes[(method, path)] = list(replies)

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method) and (path is None or r.path == path)]

    # -- recorded Salesforce answers ---------------------------------------------------------

    def salesforce_login_ok(self, session_id: str = "00D000000000001!AQsession1", version: str = "59.0") -> None:
        self.add(
            "POST",
            f"/services/Soap/u/{version}",
            Reply(200, SOAP_LOGIN_OK.format(base=self.url, session_id=session_id), content_type="text/xml"),
        )

    def salesforce_login_fault(self, code: str, version: str = "59.0") -> None:
        body = SOAP_FAULT.format(code=code, message=LOGIN_FAULTS[code])
        self.add("POST", f"/services/Soap/u/{version}", Reply(500, body, content_type="text/xml"))

    # -- recorded Entra answers --------------------------------------------------------------

    def entra_discovery(self, tenant: str) -> None:
        base = f"{self.url}/{tenant}"
        self.add(
            "GET",
            f"/{tenant}/v2.0/.well-known/openid-configuration",
            Reply(
                200,
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/v2.0",
                },
            ),
        )

    def entra_token_ok(self, tenant: str, token: str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.graph-token") -> None:
        self.add(
            "POST",
            f"/{tenant}/oauth2/v2.0/token",
            Reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}),
        )
