"""Applications: creating one with everything it needs (both connections, the default mapping and its job), and
applications as code: create one from a JSON document, export one back (without secrets).

The document is validated by the very forms the Provisioning page uses, so the browser and
`manage.py apps create` accept and refuse the same input. Secrets come from the document itself or
from environment variables it names ("admin_password_env": "SF_PASSWORD"), never from a command line.

    {
      "name": "UAT sandbox", "suffix": "uat", "provisioning_mode": "automatic",
      "salesforce": {"login_url": "...", "admin_username": "...", "admin_password_env": "SF_PASSWORD",
                     "security_token_env": "SF_TOKEN"},
      "entra": {"tenant_id": "...", "client_id": "...", "client_secret_env": "ENTRA_SECRET",
                "service_principal_id": "..."},
      "settings": {"notification_email": "ops@example.com", "notify_on_failure": true}
    }
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from connections.forms import EntraCredentialsForm, SalesforceCredentialsForm
from connections.models import Application, EntraConnection, SalesforceConnection
from console.concurrency import change, save_changes, snapshot
from console.models import AuditActivity, record_audit
from mappings.access.models import AccessSettings
from mappings.access.transfer import SECTION as ACCESS_SECTION
from mappings.access.transfer import export_access, import_access
from mappings.changes import record_access_change
from mappings.defaults import install_default_mapping, suffix_from_name
from provisioning.forms import ApplicationCreateForm, ProvisioningModeForm, ProvisioningSettingsForm
from provisioning.models import ProvisioningJob

TOP_LEVEL_KEYS = {"name", "suffix", "slug", "provisioning_mode", "salesforce", "entra", "settings", ACCESS_SECTION}
CONNECTION_FORMS = {"salesforce": SalesforceCredentialsForm, "entra": EntraCredentialsForm}
COMMAND_ACTOR = "manage.py apps"
ACTOR_EMULATORS = "the bundled emulators"


@transaction.atomic
def create_application(name: str, *, suffix: str | None = None, slug: str | None = None, actor=None) -> Application:
    application = Application.objects.create(name=name, slug=slug or slugify(name)[:100] or "application")
    EntraConnection.objects.create(application=application)
    SalesforceConnection.objects.create(application=application)
    install_default_mapping(application, suffix or suffix_from_name(name))
    # New applications take the profile of users with several app roles from the precedence order.
    AccessSettings.objects.create(application=application, profile_by_precedence=True)
    ProvisioningJob.objects.create(application=application)
    record_audit(AuditActivity.CREATE_APPLICATION, actor=actor, application=application, changed_fields=["name"])
    return application


class ConfigError(Exception):
    """The document is not valid; `errors` lists every problem as "section.field: message"."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _form_errors(section: str, form) -> list[str]:
    errors = []
    for field, messages in form.errors.items():
        where = f"{section}.{field}" if field != "__all__" else section
        errors.extend(f"{where}: {message}" for message in messages)
    return errors


def _section_data(
    section: str, form_class, instance, values: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """Form data for `section` (current values of the instance, overlaid with the document's values) and the
    problems found on the way; the caller still validates the data, so one run lists every problem."""
    if not isinstance(values, Mapping):
        raise ConfigError([f"{section}: expected an object"])
    plain = list(form_class._meta.fields)
    secret_fields = getattr(form_class, "secret_fields", ())
    allowed = set(plain) | set(secret_fields) | {f"{s}_env" for s in secret_fields} | {"secrets_set"}
    errors = [f"{section}.{key}: unknown key" for key in values if key not in allowed]
    errors += [
        f"{section}.{key}: expected a single value, not a list or an object"
        for key, value in values.items()
        if key in allowed and key != "secrets_set" and isinstance(value, list | dict)
    ]
    data: dict[str, Any] = {name: getattr(instance, name) for name in plain}
    data.update({k: v for k, v in values.items() if k in plain and not isinstance(v, list | dict)})
    for name in secret_fields:
        if name in values and f"{name}_env" in values:
            errors.append(f"{section}.{name}: give the value or {name}_env, not both")
        elif f"{name}_env" in values:
            variable = values[f"{name}_env"]
            if not env.get(variable):
                errors.append(f"{section}.{name}_env: environment variable {variable} is not set")
            else:
                data[name] = env[variable]
        elif name in values and not isinstance(values[name], list | dict):
            data[name] = values[name]
    return data, errors


def create_from_config(
    config: Mapping[str, Any], *, actor: Any = COMMAND_ACTOR, env: Mapping[str, str] | None = None
) -> Application:
    """Create an application with its credentials and settings in one transaction; ConfigError if invalid."""
    env = os.environ if env is None else env
    if not isinstance(config, Mapping):
        raise ConfigError(["the document must be a JSON object"])
    errors = [f"{key}: unknown key" for key in config if key not in TOP_LEVEL_KEYS]
    identity = ApplicationCreateForm({"name": config.get("name", ""), "suffix": config.get("suffix", "")})
    if not identity.is_valid():
        errors += _form_errors("application", identity)
    slug = config.get("slug")
    if slug is not None:
        if not isinstance(slug, str) or not slug or slugify(slug) != slug or len(slug) > 100:
            errors.append("slug: use lower-case letters, digits and hyphens")
        elif Application.objects.filter(slug=slug).exists():
            errors.append(f"slug: another application uses {slug}")
    if errors:
        raise ConfigError(errors)

    try:
        return _create_configured(config, identity, slug, actor, env)
    except IntegrityError:
        # Another `apps create` (or the console) created one with this name or address between the check and now.
        name = identity.cleaned_data["name"]
        raise ConfigError([f"application: {name!r} (or its address) was created meanwhile; nothing was created"])


@transaction.atomic
def _create_configured(config: Mapping[str, Any], identity, slug, actor, env: Mapping[str, str]) -> Application:
    """The application with the sections of `config`, or ConfigError and nothing (the transaction rolls back)."""
    application = create_application(
        identity.cleaned_data["name"], suffix=identity.cleaned_data["suffix"], slug=slug, actor=actor
    )
    changed: list[str] = []
    errors = []
    sections = [
        ("mode", ProvisioningModeForm, application, {"provisioning_mode": config.get("provisioning_mode")})
        if config.get("provisioning_mode")
        else None,
        *[
            (name, CONNECTION_FORMS[name], getattr(application, name), config[name])
            for name in CONNECTION_FORMS
            if name in config
        ],
        ("settings", ProvisioningSettingsForm, application.job, config["settings"]) if "settings" in config else None,
    ]
    for section, form_class, instance, values in filter(None, sections):
        try:
            data, problems = _section_data(section, form_class, instance, values, env)
        except ConfigError as exc:
            errors += exc.errors
            continue
        errors += problems
        # The objects were created in this transaction: the version is theirs.
        form = form_class({**data, "edit_version": instance.edit_version}, instance=instance)
        if not form.is_valid():
            errors += _form_errors(section, form)
            continue
        if problems:
            continue
        changed += [item["field"] for item in form.save_versioned(actor=actor)]
    if ACCESS_SECTION in config:
        problems = import_access(application, config[ACCESS_SECTION])
        errors += problems
        if not problems:
            record_access_change(application, actor=actor, changed_fields=[ACCESS_SECTION])
    if errors:
        # Rolls back the application too: nothing half-saved.
        raise ConfigError(errors)
    if changed:
        record_audit(AuditActivity.UPDATE_SETTINGS, actor=actor, application=application, changed_fields=changed)
    return application


def export_config(application: Application) -> dict[str, Any]:
    """The application as a document for `create_from_config`, with secrets replaced by whether they are set."""
    config: dict[str, Any] = {
        "name": application.name,
        "slug": application.slug,
        "suffix": getattr(getattr(application, "user_mapping", None), "sandbox_suffix", ""),
        "provisioning_mode": application.provisioning_mode,
    }
    for section, form_class in CONNECTION_FORMS.items():
        connection = getattr(application, section)
        config[section] = {name: getattr(connection, name) for name in form_class._meta.fields}
        config[section]["secrets_set"] = {name: connection.has_secret(name) for name in form_class.secret_fields}
    config["settings"] = {name: getattr(application.job, name) for name in ProvisioningSettingsForm._meta.fields}
    config[ACCESS_SECTION] = export_access(application)
    return config


def config_from_emulator_info(info: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A document for the bundled emulators, from the info file they write (see emulators.running_emulators)."""
    salesforce, entra, ca_bundle = info["salesforce"], info["entra"], info.get("ca_bundle", "")
    return {
        "name": name,
        "provisioning_mode": "automatic",
        "salesforce": {
            "auth_method": "password",
            "login_url": salesforce["login_url"],
            "admin_username": salesforce["username"],
            "admin_password": salesforce["password"],
            "security_token": salesforce["security_token"],
            "ca_bundle": ca_bundle,
        },
        "entra": {
            "tenant_id": entra["tenant_id"],
            "client_id": entra["client_id"],
            "client_secret": entra["client_secret"],
            "service_principal_id": entra["service_principal_id"],
            "authority_host": entra["authority_host"],
            "graph_url": entra["graph_url"],
            "ca_bundle": ca_bundle,
        },
    }


def point_at_emulators(application: Application, info: Mapping[str, Any]) -> None:
    """Fill both connections of an existing application from the emulators' info file (demo, tests, benchmarks)."""
    config = config_from_emulator_info(info, application.name)
    summary = "Pointed at the bundled emulators"
    for connection, section in ((application.salesforce, config["salesforce"]), (application.entra, config["entra"])):
        # Versioned, so a connection form opened before is refused rather than putting the old addresses back.
        secrets = [field for field in section if field in connection.SECRET_FIELDS]
        plain = [field for field in section if field not in secrets]
        quiet = (*secrets, "secrets_changed_at")
        before = snapshot(connection, [*plain, *quiet])
        for field, value in section.items():
            if field in secrets:
                connection.set_secret(field, value)
            else:
                setattr(connection, field, value)
        said = [change(field, field.replace("_", " ").capitalize(), "", "", secret=True) for field in secrets]
        save_changes(
            connection, [*plain, *quiet], before=before, actor=ACTOR_EMULATORS, summary=summary, extra=said, quiet=quiet
        )
    before = snapshot(application, ["provisioning_mode"])
    application.provisioning_mode = config["provisioning_mode"]
    save_changes(application, ["provisioning_mode"], before=before, actor=ACTOR_EMULATORS, summary=summary)
