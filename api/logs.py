"""The provisioning log as Graph's auditLogs/provisioning: provisioningObjectSummary objects, newest first,
narrowed by $filter (api/odata.py, onto the page's own filters) and paged by $top and a signed $skiptoken over the
page's keyset (activity time, id): a deep page costs what the first one costs."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core import signing
from django.http import HttpRequest, JsonResponse
from ninja import Field, Query, Router, Schema

from api import schemas
from api.auth import READ
from api.errors import BAD_REQUEST, UNSUPPORTED_QUERY, GraphError, GraphErrorBody
from api.jobs import application_of
from api.odata import UnsupportedFilter, filter_params
from provisioning.logcolumns import GRAPH_SUMMARY, LOG_COLUMNS, LogContext, compile_shape
from provisioning.logquery import LogFilters, filtered_entries, keyset_page

router = Router(tags=["auditLogs"])
DEFAULT_TOP = 50
MAX_TOP = 500
SKIPTOKEN_SALT = "api.provisioning.skiptoken"
ERRORS = {400: GraphErrorBody, 401: GraphErrorBody, 403: GraphErrorBody, 404: GraphErrorBody}


class LogQuery(Schema):
    filter: str = Field("", alias="$filter", description="OData filter; see the error of an unsupported one.")
    top: int = Field(DEFAULT_TOP, alias="$top", ge=1, le=MAX_TOP, description=f"Entries per page (1 to {MAX_TOP}).")
    skiptoken: str = Field("", alias="$skiptoken", description="From @odata.nextLink: where the next page starts.")


def _filters(text: str) -> LogFilters:
    try:
        params = filter_params(text)
    except UnsupportedFilter as exc:
        raise GraphError(400, UNSUPPORTED_QUERY, str(exc))
    for name, value in params.items():
        limit = getattr(LogFilters.base_fields[name], "limit", None)
        if limit and len(value) > limit:
            raise GraphError(400, UNSUPPORTED_QUERY, f"The {name} value has {len(value)} characters; at most {limit}.")
    filters = LogFilters(params)
    if filters.messages:  # the page drops such a value with a message; a script gets the message instead
        raise GraphError(400, UNSUPPORTED_QUERY, " ".join(filters.messages))
    return filters


def _cursor(token: str, filter_text: str) -> str | None:
    if not token:
        return None
    try:
        value = signing.loads(token, salt=SKIPTOKEN_SALT)
    except signing.BadSignature:
        value = None
    if not (isinstance(value, dict) and isinstance(value.get("after"), str)):
        raise GraphError(400, BAD_REQUEST, "The $skiptoken was changed or cut short: follow @odata.nextLink as given.")
    if value.get("filter") != filter_text:
        raise GraphError(
            400, BAD_REQUEST, "The $skiptoken belongs to another $filter: follow @odata.nextLink as given."
        )
    return value["after"]


@router.get("/applications/{application}/auditLogs/provisioning", auth=READ,
            response={200: schemas.ProvisioningObjectSummaryCollection, **ERRORS},
            operation_id="listProvisioningObjectSummaries",
            summary="The provisioning log (provisioningObjectSummary), newest first", by_alias=True)  # fmt: skip
def list_provisioning(request: HttpRequest, application: str, query: Query[LogQuery]):
    found = application_of(request, application)
    job = found.job
    filters = _filters(query.filter)
    after = _cursor(query.skiptoken, query.filter)
    entries = filtered_entries(job, filters).select_related("cycle")
    page = keyset_page(entries, after=after, size=query.top)
    ctx = LogContext(job, cycles={entry.cycle_id: entry.cycle.cycle_id for entry in page.entries})
    summary = compile_shape(GRAPH_SUMMARY, LOG_COLUMNS, ctx)
    answer: dict = {"value": [summary(entry) for entry in page.entries]}
    if page.older:
        token = signing.dumps({"after": page.older, "filter": query.filter}, salt=SKIPTOKEN_SALT, compress=True)
        params = {"$filter": query.filter} if query.filter else {}
        params.update({"$top": str(query.top), "$skiptoken": token})
        answer["@odata.nextLink"] = request.build_absolute_uri(request.path) + "?" + urlencode(params)
    # As built (the download's own shape, nulls kept), with no "@odata.nextLink" on the last page, as Graph does.
    return JsonResponse(answer)
