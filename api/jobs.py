"""Applications and their synchronization job: read them (any token), and start, pause, restart or provision one
user on demand (a token that administers)."""

from __future__ import annotations

import json

from django.http import HttpRequest
from ninja import Router, Status

from api import schemas
from api.auth import ADMINISTER, READ
from api.errors import BAD_REQUEST, DENIED, GraphError, GraphErrorBody, not_found
from api.shapes import application_shape, find_application, job_shape
from connections.models import Application
from provisioning.operations.on_demand import GUID, OnDemandResult, Step, provision_on_demand
from provisioning.views.overview_actions import OVERVIEW_ACTIONS, perform

router = Router(tags=["synchronization"])
ERRORS = {401: GraphErrorBody, 403: GraphErrorBody, 404: GraphErrorBody}


def application_of(request: HttpRequest, key: str) -> Application:
    application = find_application(key)
    if application is None:
        raise not_found(f"No application {key!r}: GET /api/v1.0/applications lists them (slug or id).")
    request.api_application = application  # for the audit entry
    return application


def job_of(request: HttpRequest, key: str, job_id: str) -> Application:
    application = application_of(request, key)
    if application.job.job_id != job_id:
        raise not_found(
            f"Application {application.slug} has no job {job_id!r}; its job is {application.job.job_id} "
            f"(GET /api/v1.0/applications/{application.slug}/synchronization/jobs)."
        )
    return application


@router.get("/applications", response={200: schemas.ApplicationCollection, **ERRORS}, auth=READ,
            operation_id="listApplications", summary="List applications")  # fmt: skip
def list_applications(request: HttpRequest):
    applications = Application.objects.select_related("job").order_by("name")
    return {"value": [application_shape(application) for application in applications]}


@router.get("/applications/{application}", response={200: schemas.Application, **ERRORS}, auth=READ,
            operation_id="getApplication", summary="Get an application")  # fmt: skip
def get_application(request: HttpRequest, application: str):
    return application_shape(application_of(request, application))


@router.get("/applications/{application}/synchronization/jobs", auth=READ,
            response={200: schemas.SynchronizationJobCollection, **ERRORS},
            operation_id="listSynchronizationJobs", summary="List the synchronization jobs (one)")  # fmt: skip
def list_jobs(request: HttpRequest, application: str):
    return {"value": [job_shape(application_of(request, application))]}


@router.get("/applications/{application}/synchronization/jobs/{job_id}", auth=READ,
            response={200: schemas.SynchronizationJob, **ERRORS},
            operation_id="getSynchronizationJob", summary="Get the job: status, last cycles, quarantine")  # fmt: skip
def get_job(request: HttpRequest, application: str, job_id: str):
    return job_shape(job_of(request, application, job_id))


# Actions -------------------------------------------------------------------------------------------------------

ACTION_ERRORS = {400: GraphErrorBody, **ERRORS}
JOB = "/applications/{application}/synchronization/jobs/{job_id}"
# What the Overview's Restart provisioning clears; Graph's restart with an empty resetScope does the same.
RESTART_SCOPE = {"watermark": "Watermark", "escrows": "Escrows", "quarantinestate": "QuarantineState"}
STEP_TYPES = {
    "Test connection": "processing",
    "Import user": "import",
    "Determine if user is in scope": "scoping",
    "Match user between source and target": "matching",
    "Perform action": "export",
    "Grant Salesforce access": "export",
    "Revoke Salesforce access": "export",
}


def _act(request: HttpRequest, application: Application, slug: str) -> None:
    """Run one of the Overview's actions as its button does (overview_actions.perform: lock, operation, audit)."""
    chosen = OVERVIEW_ACTIONS[slug]
    if not chosen.permission(request.user):  # the token's check asked the same; the table stays the authority
        raise GraphError(403, DENIED, "Only an Application Administrator can do this.")
    perform(application, chosen, request.user, detail=f"REST API, token {request.api_token.prefix}…")


@router.post(f"{JOB}/start", response={204: None, **ERRORS}, auth=ADMINISTER, operation_id="startSynchronizationJob",
             summary="Start: Provisioning Status On (the Overview's Start provisioning)")  # fmt: skip
def start(request: HttpRequest, application: str, job_id: str):
    _act(request, job_of(request, application, job_id), "start")
    return Status(204, None)


@router.post(f"{JOB}/pause", response={204: None, **ERRORS}, auth=ADMINISTER, operation_id="pauseSynchronizationJob",
             summary="Pause: Provisioning Status Off, state kept (the Overview's Stop provisioning)")  # fmt: skip
def pause(request: HttpRequest, application: str, job_id: str):
    _act(request, job_of(request, application, job_id), "stop")
    return Status(204, None)


def _restart_scope(body: schemas.RestartRequest | None) -> None:
    text = (body.criteria.resetScope if body and body.criteria else None) or ""
    named = {part.strip() for part in text.split(",") if part.strip()}
    if not named or {part.lower() for part in named} == set(RESTART_SCOPE):
        return
    raise GraphError(
        400,
        BAD_REQUEST,
        f"resetScope {text!r} is not supported. Restart clears {', '.join(RESTART_SCOPE.values())} together and "
        "keeps the links between Entra and Salesforce users, as Restart provisioning on the Overview does: leave "
        "resetScope empty or name those three. (ForceDeletes is Allow deletes on the Overview; Full and "
        "ConnectorDataStore would forget the links, which the console never does; None is the start action.)",
    )


@router.post(f"{JOB}/restart", response={204: None, **ACTION_ERRORS}, auth=ADMINISTER,
             operation_id="restartSynchronizationJob",
             summary="Restart: clear watermark, escrows, quarantine; an initial cycle (links kept)")  # fmt: skip
def restart(request: HttpRequest, application: str, job_id: str, body: schemas.RestartRequest | None = None):
    found = job_of(request, application, job_id)
    _restart_scope(body)
    _act(request, found, "restart")
    return Status(204, None)


def _subject(body: schemas.ProvisionOnDemandRequest) -> str:
    subjects = [subject for parameters in body.parameters for subject in parameters.subjects]
    if len(subjects) != 1:
        raise GraphError(400, BAD_REQUEST, f"Give exactly one subject (this request has {len(subjects)}): "
                         "provision on demand runs one user at a time.")  # fmt: skip
    subject = subjects[0]
    if subject.objectTypeName.lower() != "user":
        raise GraphError(400, BAD_REQUEST, f"objectTypeName {subject.objectTypeName!r} is not supported: provision "
                         "users (objectTypeName User); a group's members are provisioned one by one.")  # fmt: skip
    if not GUID.match(subject.objectId):
        raise GraphError(400, BAD_REQUEST, f"objectId {subject.objectId!r} is not an Entra object id (a GUID such "
                         "as 9bb0f679-a883-4a6f-8260-35b491b8b8c8).")  # fmt: skip
    return subject.objectId


def _details(step: Step) -> dict[str, str]:
    return {label: value for label, value in step.details}


def on_demand_value(result: OnDemandResult) -> dict:
    """The run as JSON: Graph's provisioningStep list and status info, the identities, the log entry's ids."""
    steps = result.steps
    failed = any(step.status == "failure" for step in steps)
    status = "failure" if failed else ("skipped" if steps and steps[-1].status == "skipped" else "success")
    entry = result.entry
    error = None
    if entry is not None and (entry.error_code or entry.error_reason):
        error = {"errorCode": entry.error_code, "reason": entry.error_reason,
                 "recommendedAction": entry.error_recommendation}  # fmt: skip
    elif failed:
        error = {"errorCode": "", "reason": result.message, "recommendedAction": ""}
    user = result.user or {}
    return {
        "changeId": entry.change_id if entry else None,
        "cycleId": result.cycle.cycle_id if result.cycle else None,
        "jobId": result.cycle.job.job_id if result.cycle else None,
        "durationInMilliseconds": result.duration_ms,
        "provisioningAction": entry.action if entry else None,
        "provisioningStatusInfo": {"status": status, "errorInformation": error},
        "provisioningSteps": [
            {"name": step.name, "provisioningStepType": STEP_TYPES.get(step.name, "processing"),
             "status": step.status, "description": step.description, "details": _details(step)}
            for step in steps
        ],  # fmt: skip
        "modifiedProperties": [prop for step in steps for prop in step.properties],
        "sourceIdentity": {"id": user.get("id", ""), "displayName": user.get("displayName", ""),
                           "identityType": "User", "details": {"UserPrincipalName": user.get("userPrincipalName", "")}},
        "targetIdentity": {"id": entry.target_id if entry else "", "displayName": entry.target_display_name if entry
                           else "", "identityType": "User", "details": {}},
        "message": result.message,
    }  # fmt: skip


@router.post(f"{JOB}/provisionOnDemand", response={200: schemas.StringKeyStringValuePair, **ACTION_ERRORS},
             auth=ADMINISTER, operation_id="provisionOnDemand",
             summary="Provision one Entra user now, with the steps Entra shows")  # fmt: skip
def provision_now(request: HttpRequest, application: str, job_id: str, body: schemas.ProvisionOnDemandRequest):
    found = job_of(request, application, job_id)
    object_id = _subject(body)
    result = provision_on_demand(found, object_id)
    if not result.steps:
        raise not_found(f"No user with object id {object_id} in Microsoft Entra ID: {result.message}")
    return {"key": "provisioningObjectSummary", "value": json.dumps(on_demand_value(result), default=str)}
