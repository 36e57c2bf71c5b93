"""The job's schema: the user objectMapping, read and replaced with the same JSON as `manage.py mappings
export/import` (Graph's objectMapping). A replacement names the version it was made from (If-Match with the ETag
of the GET): one made over someone else's change is refused (412), never applied over it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from api.auth import ADMINISTER, READ
from api.errors import BAD_REQUEST, PRECONDITION_FAILED, PRECONDITION_REQUIRED, GraphError, GraphErrorBody, not_found
from api.jobs import JOB, job_of
from console.concurrency import EditConflict, refusal_text
from console.json_input import JsonInputError, load_json
from mappings.graph_json import MappingImportError, export_object_mapping, import_object_mapping
from mappings.models import ObjectMapping

router = Router(tags=["schema"])
PATH = f"{JOB}/schema/objectMapping"
ERRORS = {401: GraphErrorBody, 403: GraphErrorBody, 404: GraphErrorBody}
SHOWN_PROBLEMS = 20
DOCUMENT = {"type": "object", "description": "Graph's objectMapping, as `manage.py mappings export` writes it."}
BODY = {"required": True, "content": {"application/json": {"schema": DOCUMENT}}}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": 'The ETag of the GET (the mapping version, e.g. "7"): the replacement is refused (412) when the '
    'mapping changed since. "*" replaces whatever is there.',
    "schema": {"type": "string"},
}


def etag(mapping: ObjectMapping) -> str:
    return f'"{mapping.version}"'


def _mapping(request: HttpRequest, application: str, job_id: str) -> ObjectMapping:
    found = job_of(request, application, job_id)
    mapping = ObjectMapping.objects.select_related("application").filter(application=found).first()
    if mapping is None:
        raise not_found(f"Application {found.slug} has no user mapping: restore the defaults in the console.")
    return mapping


def _expected_version(request: HttpRequest, mapping: ObjectMapping) -> int | None:
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise GraphError(
            428,
            PRECONDITION_REQUIRED,
            f"Send If-Match with the ETag of GET {request.path} (now {etag(mapping)}), so that a change made since "
            'is not overwritten; If-Match: "*" replaces whatever is there.',
        )
    if header == "*":
        return None
    value = header.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise GraphError(
            400, BAD_REQUEST, f"If-Match {header!r} is not an ETag of this mapping (such as {etag(mapping)})."
        )
    return int(value)


@router.get(PATH, response={200: dict[str, Any], **ERRORS}, auth=READ, operation_id="getObjectMapping",
            summary="The user objectMapping, as mappings export writes it; the ETag header is its version")  # fmt: skip
def get_object_mapping(request: HttpRequest, application: str, job_id: str, response: HttpResponse):
    mapping = _mapping(request, application, job_id)
    response["ETag"] = etag(mapping)
    return export_object_mapping(mapping)


@router.put(PATH, auth=ADMINISTER, operation_id="replaceObjectMapping",
            response={200: dict[str, Any], 400: GraphErrorBody, 412: GraphErrorBody, 428: GraphErrorBody, **ERRORS},
            summary="Replace the user objectMapping (as mappings import): all of it or nothing",
            openapi_extra={"parameters": [IF_MATCH], "requestBody": BODY})  # fmt: skip
def replace_object_mapping(request: HttpRequest, application: str, job_id: str, response: HttpResponse):
    mapping = _mapping(request, application, job_id)
    expected = _expected_version(request, mapping)
    try:
        document = load_json(request.body, what="The request body")
    except JsonInputError as exc:
        raise GraphError(400, BAD_REQUEST, str(exc))
    try:
        import_object_mapping(mapping, document, actor=request.user, expected_version=expected)
    except EditConflict as refused:
        conflict = refused.conflict
        raise GraphError(
            412,
            PRECONDITION_FAILED,
            f"Nothing was replaced: the mapping is at version {conflict.current_version}, not {expected}: "
            f"{refusal_text(conflict).removesuffix(', after you opened it.')} after your GET. GET it again, merge "
            "your change into it and PUT with the new ETag.",
            headers={"ETag": f'"{conflict.current_version}"'},
        )
    except MappingImportError as exc:
        shown = "; ".join(exc.errors[:SHOWN_PROBLEMS])
        more = f" (and {len(exc.errors) - SHOWN_PROBLEMS} more)" if len(exc.errors) > SHOWN_PROBLEMS else ""
        raise GraphError(400, BAD_REQUEST, f"Nothing was imported: {len(exc.errors)} problem(s): {shown}{more}")
    mapping.refresh_from_db()
    response["ETag"] = etag(mapping)
    return export_object_mapping(mapping)
