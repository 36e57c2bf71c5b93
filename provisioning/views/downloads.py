"""Downloads of the filtered provisioning log, streamed: JSON (Graph shape) and a zip of Entra's three CSV files."""

from __future__ import annotations

from django.db.models import Max
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from console.permissions import reader_required
from provisioning.logexport import stream_csv_zip, stream_json
from provisioning.logquery import filtered_entries, parse_filters
from provisioning.models import ProvisioningLogEntry
from provisioning.views.base import get_application


def _entries(request: HttpRequest, slug: str):
    application = get_application(slug)
    job = application.job
    entries = filtered_entries(job, parse_filters(request.GET))
    # Rows written while the download runs are left out: its chunks are read one query at a time.
    newest = ProvisioningLogEntry.objects.aggregate(newest=Max("pk"))["newest"] or 0
    return application, job, entries.filter(pk__lte=newest)


def _filename(application, extension: str) -> str:
    return f"ProvisioningLogs-{application.slug}-{timezone.now():%Y%m%dT%H%M%SZ}.{extension}"


def _attachment(response: StreamingHttpResponse, filename: str) -> StreamingHttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@reader_required
def download_json(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    application, job, entries = _entries(request, slug)
    response = StreamingHttpResponse(stream_json(entries, job), content_type="application/json")
    return _attachment(response, _filename(application, "json"))


@require_GET
@reader_required
def download_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    application, job, entries = _entries(request, slug)
    response = StreamingHttpResponse(stream_csv_zip(entries, job), content_type="application/zip")
    return _attachment(response, _filename(application, "zip"))
