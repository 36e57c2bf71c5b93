"""Every error of the API in Microsoft Graph's format, `{"error": {"code", "message"}}`, with Graph's codes where
Graph has one for the case, so that a script written for Graph handles both alike."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from api.tokens import TokenNotAllowed, TokenRefused
from console.json_input import JsonInputError, load_json

logger = logging.getLogger(__name__)

UNAUTHENTICATED = "InvalidAuthenticationToken"
DENIED = "Authorization_RequestDenied"
NOT_FOUND = "Request_ResourceNotFound"
BAD_REQUEST = "BadRequest"
UNSUPPORTED_QUERY = "Request_UnsupportedQuery"
CONFLICT = "Conflict"
PRECONDITION_FAILED = "PreconditionFailed"
PRECONDITION_REQUIRED = "PreconditionRequired"

NO_TOKEN = (
    "Send a personal API token as 'Authorization: Bearer <token>'. Create one under API tokens in the console "
    "(or with manage.py api_tokens create)."
)


class ErrorDetail(Schema):
    code: str
    message: str


class GraphErrorBody(Schema):
    """Microsoft Graph's error response."""

    error: ErrorDetail


class GraphError(Exception):
    """An answer other than success: the HTTP status, Graph's error code and a message that says what to do."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


class JsonBodyParser(Parser):
    """Request bodies are read as every JSON document of the console is: size and nesting checked before parsing
    (console/json_input.py), so that no body ends in a RecursionError."""

    def parse_body(self, request: HttpRequest) -> Any:
        return load_json(request.body, what="The request body")


def not_found(what: str) -> GraphError:
    return GraphError(404, NOT_FOUND, what)


def error_response(api: NinjaAPI, request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    response = api.create_response(request, {"error": {"code": code, "message": message}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="console API"'
    return response


def install(api: NinjaAPI) -> None:
    """Register the handlers that turn every exception into Graph's error body."""

    @api.exception_handler(GraphError)
    def graph_error(request: HttpRequest, exc: GraphError) -> HttpResponse:
        response = error_response(api, request, exc.status, exc.code, exc.message)
        for name, value in exc.headers.items():
            response[name] = value
        return response

    @api.exception_handler(TokenRefused)
    def token_refused(request: HttpRequest, exc: TokenRefused) -> HttpResponse:
        request.api_refusal = str(exc)
        return error_response(api, request, 401, UNAUTHENTICATED, str(exc))

    @api.exception_handler(TokenNotAllowed)
    def token_not_allowed(request: HttpRequest, exc: TokenNotAllowed) -> HttpResponse:
        request.api_refusal = str(exc)
        return error_response(api, request, 403, DENIED, str(exc))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(api, request, 401, UNAUTHENTICATED, NO_TOKEN)

    @api.exception_handler(NinjaValidationError)
    def invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        problems = []
        for error in exc.errors[:10]:
            place = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "payload"))
            problems.append(f"{place}: {error.get('msg', 'invalid')}" if place else error.get("msg", "invalid"))
        return error_response(api, request, 400, BAD_REQUEST, "The request is not valid: " + "; ".join(problems))

    @api.exception_handler(Http404)
    def missing(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(api, request, 404, NOT_FOUND, str(exc) or "Not found.")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: DENIED, 404: NOT_FOUND}.get(exc.status_code, "Error")
        message = str(exc)
        if isinstance(exc.__cause__, JsonInputError):  # a body the parser refused: say why, in production too
            message = str(exc.__cause__)
        return error_response(api, request, exc.status_code, code, message)

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # The message of an unexpected exception could quote anything: the log names the class, the answer nothing.
        logger.exception("API call %s %s failed unexpectedly", request.method, request.path)
        return error_response(
            api, request, 500, "InternalServerError", "The console failed unexpectedly; its log says why at this time."
        )
