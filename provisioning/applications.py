"""Creating an application with everything it needs: both connections, the default mapping and its job."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from connections.models import Application, EntraConnection, SalesforceConnection
from console.models import AuditActivity, record_audit
from mappings.defaults import install_default_mapping, suffix_from_name
from provisioning.models import ProvisioningJob


@transaction.atomic
def create_application(name: str, *, suffix: str | None = None, slug: str | None = None, actor=None) -> Application:
    application = Application.objects.create(name=name, slug=slug or slugify(name)[:100] or "application")
    EntraConnection.objects.create(application=application)
    SalesforceConnection.objects.create(application=application)
    install_default_mapping(application, suffix or suffix_from_name(name))
    ProvisioningJob.objects.create(application=application)
    record_audit(AuditActivity.CREATE_APPLICATION, actor=actor, application=application, changed_fields=["name"])
    return application
