"""GET and upsert (PATCH) of a User by an idLookup field: /sobjects/User/{Field}/{value}."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulators.salesforce.records import create_user, update_user
from emulators.salesforce.responses import sf_error
from emulators.salesforce.schema import FIELD_INDEX
from emulators.salesforce.validation import UserError
from emulators.server import Request, Response, parse_json_body

if TYPE_CHECKING:
    from emulators.salesforce.rest import SalesforceApp

LOOKUP_FIELDS = ("Username", "FederationIdentifier", "CommunityNickname")


def _field(request: Request) -> str | None:
    field = FIELD_INDEX["User"].get(request.params["field"].lower())
    if field is None or not (field.name in LOOKUP_FIELDS or field.custom):
        return None
    return field.name


def _matches(app: SalesforceApp, field: str, value: str) -> list[str]:
    state = app.state
    index = {"Username": state.by_username, "FederationIdentifier": state.by_federation,
             "CommunityNickname": state.by_nickname}.get(field)  # fmt: skip
    if index is not None:
        uid = index.get(value.lower())
        return [uid] if uid else []
    return [uid for uid, u in state.users.items() if (u.get(field) or "").lower() == value.lower()]


def _unknown_field(request: Request) -> Response:
    return sf_error(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: "
                    f"{request.params['field']}")  # fmt: skip


def get_by_field(app: SalesforceApp, request: Request) -> Response:
    field = _field(request) if request.params["obj"].lower() == "user" else None
    if field is None:
        return _unknown_field(request)
    found = _matches(app, field, request.params["value"])
    if not found:
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
    record = app.state.users[found[0]]
    url = f"/services/data/{request.params['ver']}/sobjects/User/{record['Id']}"
    return Response.json({"attributes": {"type": "User", "url": url}, **record})


def upsert(app: SalesforceApp, request: Request) -> Response:
    """201 + created:true when new, 200 + created:false when updated, 300 when the value is ambiguous."""
    field = _field(request) if request.params["obj"].lower() == "user" else None
    if field is None:
        return _unknown_field(request)
    value = request.params["value"]
    body = dict(parse_json_body(request) or {})
    found = _matches(app, field, value)
    if len(found) > 1:
        urls = [f"/services/data/{request.params['ver']}/sobjects/User/{uid}" for uid in found]
        return Response.json(urls, 300)
    try:
        if found:
            update_user(app.state, found[0], body)
            return Response.json({"id": found[0], "success": True, "errors": [], "created": False}, 200)
        body[field] = value
        uid = create_user(app.state, body)
    except UserError as err:
        return Response.json([err.as_error()], 400)
    return Response.json({"id": uid, "success": True, "errors": [], "created": True}, 201)
