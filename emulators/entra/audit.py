"""Graph's directory audit log: GET /v1.0/auditLogs/directoryAudits, for the app role assignment activities.

As Graph documents it (https://learn.microsoft.com/graph/api/directoryaudit-list, the directoryAudit resource at
https://learn.microsoft.com/graph/api/resources/directoryaudit): AuditLog.Read.All or the call is refused with 403
Authorization_RequestDenied; `$filter` on activityDateTime (eq, ge, le), activityDisplayName and category (eq), and
targetResources by id (`targetResources/any(t:t/id eq '...')`), clauses joined with `and`; anything else is
Request_UnsupportedQuery; `$top` and paging through an absolute `@odata.nextLink` with `$skiptoken`. An assignment's
entry names the application's service principal and then the user or group as its target resources.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from emulators.entra.responses import GRAPH, graph_error
from emulators.entra.state import AuditRecord
from emulators.server import Request, Response

if TYPE_CHECKING:
    from emulators.entra.app import EntraApp

_CLAUSE = re.compile(
    r"""^(?:
        activityDateTime\s+(?P<op>eq|ge|le)\s+(?P<when>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)
      | targetResources/any\(\s*(?P<var>\w+)\s*:\s*(?P=var)/id\s+eq\s+'(?P<target>[^']*)'\s*\)
      | (?P<prop>activityDisplayName|category)\s+eq\s+'(?P<text>(?:[^']|'')*)'
    )$""",
    re.VERBOSE | re.IGNORECASE,
)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_CATEGORY = {"User": "UserManagement", "Group": "GroupManagement"}


def _parse_time(text: str) -> datetime:
    whole, _, fraction = text.rstrip("Zz").partition(".")
    parsed = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return parsed.replace(microsecond=int((fraction + "000000")[:6])) if fraction else parsed


def _time_text(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond:06d}0Z"  # Graph gives seven decimals


class AuditRoutes:
    def __init__(self, app: EntraApp) -> None:
        self.app = app
        app.router.add(
            "GET",
            GRAPH + "/auditLogs/directoryAudits/?",
            "GET /v1.0/auditLogs/directoryAudits",
            app.authed(self.directory_audits),
        )

    def _predicate(self, text: str):
        tests = []
        for clause in _AND.split(text.strip()) if text.strip() else []:
            match = _CLAUSE.match(clause.strip())
            if match is None:
                raise ValueError(f"Invalid filter clause: '{clause.strip()}' is not supported on directoryAudits.")
            if match["op"]:
                when, op = _parse_time(match["when"]), match["op"].lower()
                compare = {"ge": datetime.__ge__, "le": datetime.__le__, "eq": datetime.__eq__}[op]
                tests.append(lambda r, when=when, compare=compare: compare(r.at, when))
            elif match["target"] is not None:
                target = match["target"].lower()
                sp = self.app.state.service_principal["id"].lower()
                tests.append(lambda r, target=target, sp=sp: target in (sp, r.principal_id.lower()))
            else:
                value = match["text"].replace("''", "'")
                if match["prop"].lower() == "category":
                    tests.append(lambda r, value=value: _CATEGORY[r.principal_type] == value)
                else:
                    tests.append(lambda r, value=value: r.activity == value)
        return lambda record: all(test(record) for test in tests)

    def directory_audits(self, request: Request) -> Response:
        state = self.app.state
        if "AuditLog.Read.All" in state.missing_permissions:
            return graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        top = self.app.top(request)
        if isinstance(top, Response):
            return top
        try:
            predicate = self._predicate(request.query.get("$filter", ""))
        except ValueError as err:
            return graph_error(400, "Request_UnsupportedQuery", str(err))

        def rows() -> list[AuditRecord]:
            listed = state.audit_log if state.audit_held_from is None else state.audit_log[: state.audit_held_from]
            return sorted((r for r in listed if predicate(r)), key=lambda r: r.at, reverse=True)  # newest first

        return self.app.page(request, rows, top, self.shape, "auditLogs/directoryAudits")

    def shape(self, record: AuditRecord) -> dict[str, Any]:
        sp = self.app.state.service_principal
        correlation = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{record.assignment_id}/{record.at.isoformat()}"))
        role = next((r for r in sp.get("appRoles") or [] if r.get("id") == record.app_role_id), {})
        added = record.activity.startswith("Add")
        return {
            "id": f"Directory_{correlation}",
            "category": _CATEGORY[record.principal_type],
            "correlationId": correlation,
            "result": "success",
            "resultReason": "",
            "activityDisplayName": record.activity,
            "activityDateTime": _time_text(record.at),
            "loggedByService": "Core Directory",
            "operationType": "Assign" if added else "Unassign",
            "initiatedBy": {
                "app": None,
                "user": {
                    "id": "00000000-0000-0000-0000-00000000ad01",
                    "displayName": None,
                    "userPrincipalName": f"admin@{self.app.state.domain}",
                    "ipAddress": "",
                    "userType": None,
                    "homeTenantId": None,
                    "homeTenantName": None,
                },
            },
            "targetResources": [
                {
                    "id": sp["id"],
                    "displayName": sp.get("displayName"),
                    "type": "ServicePrincipal",
                    "userPrincipalName": None,
                    "groupType": None,
                    "modifiedProperties": [
                        _changed("AppRole.Id", record.app_role_id, added),
                        _changed("AppRole.Value", role.get("value") or "", added),
                        _changed("AppRoleAssignment.Id", record.assignment_id, added),
                        _changed(f"{record.principal_type}.ObjectID", record.principal_id, added),
                    ],
                },
                {
                    "id": record.principal_id,
                    "displayName": record.principal_name,
                    "type": record.principal_type,
                    "userPrincipalName": record.upn,
                    "groupType": "azureAD" if record.principal_type == "Group" else None,
                    "modifiedProperties": [],
                },
            ],
            "additionalDetails": [],
        }


def _changed(name: str, value: str, added: bool) -> dict[str, Any]:
    text = f'"{value}"'
    return {"displayName": name, "oldValue": None if added else text, "newValue": text if added else None}
