"""The Applications list, creating and deleting an application (its Overview is in views/overview.py)."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from connections.models import Application
from console.models import AuditActivity, record_audit
from console.permissions import administrator_required, reader_required
from provisioning.applications import create_application
from provisioning.forms import ApplicationCreateForm
from provisioning.scheduling import apply_schedule
from provisioning.views.base import blade_context, get_application


@require_GET
@reader_required
def application_list(request: HttpRequest) -> HttpResponse:
    applications = Application.objects.select_related("entra", "salesforce", "job").order_by("name")
    return render(request, "provisioning/application_list.html", {"applications": applications})


@require_http_methods(["GET", "POST"])
@administrator_required
def application_create(request: HttpRequest) -> HttpResponse:
    form = ApplicationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            application = create_application(
                form.cleaned_data["name"], suffix=form.cleaned_data["suffix"], actor=request.user
            )
        except IntegrityError:  # created by someone else between the form's check and now
            form.add_error("name", "An application with this name (or its address) was just created: choose another.")
            return render(request, "provisioning/application_create.html", {"form": form}, status=400)
        messages.success(
            request, f"Application “{application.name}” created. Next: set Provisioning Mode to Automatic."
        )
        return redirect("provisioning", application.slug)
    status = 400 if form.is_bound else 200
    return render(request, "provisioning/application_create.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@administrator_required
def application_delete(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    if request.method == "POST":
        name = application.name
        with transaction.atomic():
            # Written first, so the entry still names the application after the row is gone.
            record_audit(AuditActivity.DELETE_APPLICATION, actor=request.user, application=application)
            job = application.job
            if job.enabled:
                job.enabled = False
                apply_schedule(job)  # removes the cycle schedule, which would outlive the job otherwise
            application.delete()
        messages.success(request, f"Application “{name}” deleted.")
        return redirect("applications")
    return render(
        request,
        "provisioning/application_delete.html",
        blade_context(application, "application_overview", page_title="Delete application"),
    )
