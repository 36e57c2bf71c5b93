"""Applications and their synchronization job, read with any token."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from api import schemas
from api.auth import READ
from api.errors import GraphErrorBody, not_found
from api.shapes import application_shape, find_application, job_shape
from connections.models import Application

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
