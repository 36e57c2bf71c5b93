"""The REST API: one NinjaAPI with its routers, Graph's error format, and the OpenAPI description at
/api/openapi.json (the interactive docs page is off: it would load scripts from elsewhere, which the
Content-Security-Policy forbids)."""

from __future__ import annotations

from ninja import NinjaAPI

from api import errors, jobs, logs, schema

VERSION = "v1.0"

api = NinjaAPI(
    title="Salesforce Sandbox provisioning console API",
    version=VERSION,
    description="Shaped after Microsoft Graph's synchronization API: applications, their synchronization job and "
    "its actions, the schema's objectMapping and the provisioning log (provisioningObjectSummary). Authenticate "
    "with a personal API token: 'Authorization: Bearer <token>'. Errors are Graph's: "
    '{"error": {"code", "message"}}.',
    openapi_url="/openapi.json",
    docs_url=None,
    urls_namespace="api",
    parser=errors.JsonBodyParser(),
)
errors.install(api)
api.add_router(f"/{VERSION}", jobs.router)
api.add_router(f"/{VERSION}", schema.router)
api.add_router(f"/{VERSION}", logs.router)
