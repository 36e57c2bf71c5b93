"""The Provisioning tab: mode, Admin Credentials of both connections, Settings and Provisioning Status.

Each section is its own form posted to its own URL, so a mistake in one section never discards what
was typed in another's saved state. An invalid form re-renders the whole page with its errors
(status 400); nothing of it is saved. Every save writes one audit entry naming the changed fields.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from connections.forms import EntraCredentialsForm, SalesforceCredentialsForm
from connections.models import CONNECTION_KEYS, Application
from console.concurrency import EditConflict
from console.models import AuditActivity, record_audit
from console.permissions import administrator_required, disable_forms_for_readers, reader_required
from provisioning.forms import ProvisioningModeForm, ProvisioningSettingsForm, ProvisioningStatusForm
from provisioning.scheduling import apply_schedule
from provisioning.views.badges import ProvisioningStatus
from provisioning.views.base import blade_context, get_application, optional_url

# Section name -> form class and the object it edits.
SECTIONS = {
    "mode": ProvisioningModeForm,
    "salesforce": SalesforceCredentialsForm,
    "entra": EntraCredentialsForm,
    "settings": ProvisioningSettingsForm,
    "status": ProvisioningStatusForm,
}


def _instance(application: Application, section: str):
    return {
        "mode": application,
        "salesforce": application.salesforce,
        "entra": application.entra,
        "settings": application.job,
        "status": application.job,
    }[section]


def _page(request: HttpRequest, application: Application, bound: dict[str, forms.Form] | None = None, status=200):
    bound = bound or {}
    page_forms = {
        section: bound.get(section) or form_class(instance=_instance(application, section), prefix=section)
        for section, form_class in SECTIONS.items()
    }
    disable_forms_for_readers(request.user, *page_forms.values())
    mapping = getattr(application, "user_mapping", None)
    context = blade_context(
        application,
        "provisioning",
        job=application.job,
        forms=page_forms,
        provisioning_status=ProvisioningStatus.ON if application.job.enabled else ProvisioningStatus.OFF,
        mapping=mapping,
        mapping_rows=list(mapping.attributes.all()) if mapping else [],
        mapping_editor_url=optional_url("mapping_editor", application.slug),
    )
    return render(request, "provisioning/provisioning.html", context, status=status)


@require_GET
@reader_required
def provisioning_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, get_application(slug))


def _save_section(request: HttpRequest, slug: str, section: str) -> HttpResponse:
    application = get_application(slug)
    kwargs = {"session": request.session} if section in CONNECTION_KEYS else {}
    form = SECTIONS[section](request.POST, instance=_instance(application, section), prefix=section, **kwargs)
    if not form.is_valid():
        messages.error(request, "Nothing was saved: correct the fields marked below.")
        # A fresh copy: validation has already copied the rejected values onto `application`'s objects.
        return _page(request, get_application(slug), {section: form}, status=400)
    try:
        with transaction.atomic():
            # Only the form's columns are written, so the engine's concurrent writes to the job survive.
            changes = form.save_versioned(actor=request.user)
            changed = [item["field"] for item in changes]
            if section == "status" and changed:
                job = form.instance
                activity = AuditActivity.START if job.enabled else AuditActivity.STOP
                record_audit(activity, actor=request.user, application=application, changed_fields=changed)
                apply_schedule(job)
            elif changed:
                if section == "settings" and "interval_minutes" in changed:
                    apply_schedule(form.instance)
                record_audit(
                    AuditActivity.UPDATE_SETTINGS, actor=request.user, application=application, changed_fields=changed
                )
    except EditConflict as refused:
        form.keep_for_conflict(refused.conflict)
        messages.error(request, str(refused))
        return _page(request, get_application(slug), {section: form}, status=409)
    messages.success(request, "Saved." if changed else "No changes to save.")
    return redirect(reverse("provisioning", args=[application.slug]) + f"#{section}")


@require_POST
@administrator_required
def save_mode(request: HttpRequest, slug: str) -> HttpResponse:
    return _save_section(request, slug, "mode")


# Django's error reports (the DEBUG page, mail to ADMINS) then show these POST values as stars.
SALESFORCE_SECRET_POST_FIELDS = [f"salesforce-{name}" for name in SalesforceCredentialsForm.secret_fields]
ENTRA_SECRET_POST_FIELDS = [f"entra-{name}" for name in EntraCredentialsForm.secret_fields]


@sensitive_post_parameters(*SALESFORCE_SECRET_POST_FIELDS)
@require_POST
@administrator_required
def save_salesforce_credentials(request: HttpRequest, slug: str) -> HttpResponse:
    return _save_section(request, slug, "salesforce")


@sensitive_post_parameters(*ENTRA_SECRET_POST_FIELDS)
@require_POST
@administrator_required
def save_entra_credentials(request: HttpRequest, slug: str) -> HttpResponse:
    return _save_section(request, slug, "entra")


@require_POST
@administrator_required
def save_settings(request: HttpRequest, slug: str) -> HttpResponse:
    return _save_section(request, slug, "settings")


@require_POST
@administrator_required
def save_status(request: HttpRequest, slug: str) -> HttpResponse:
    return _save_section(request, slug, "status")
