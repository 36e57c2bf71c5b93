"""python manage.py apps list | create | test-connection | export: applications as code.

Secrets are read from the JSON file or from environment variables the file names; the command line
never carries one (it would end up in shell history and process listings).
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from connections import connection_test
from connections.models import CONNECTION_KEYS, Application
from console.json_input import JsonInputError, read_json_file
from console.models import AuditActivity, record_audit
from provisioning.applications import (
    COMMAND_ACTOR,
    ConfigError,
    config_from_emulator_info,
    create_from_config,
    export_config,
)


def find_application(name: str) -> Application:
    application = (
        Application.objects.select_related("salesforce", "entra", "job").filter(Q(slug=name) | Q(name=name)).first()
    )
    if application is None:
        known = ", ".join(Application.objects.values_list("slug", flat=True)) or "none"
        raise CommandError(f"No application {name!r} (known: {known}).")
    return application


def read_json(path: str) -> dict:
    """A JSON file ('-': standard input), its size and depth checked before it is parsed."""
    try:
        return read_json_file(path)
    except JsonInputError as exc:
        raise CommandError(str(exc))


def _last_test(connection) -> str:
    if not connection.last_test_at:
        return "not tested"
    return f"{connection.get_last_test_outcome_display()} {connection.last_test_at:%Y-%m-%d %H:%M}"


class Command(BaseCommand):
    help = "List, create, test and export applications (Salesforce Sandbox provisioning configurations)."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{list,create,test-connection,export}")
        listing = sub.add_parser("list", help="A table of the applications.")
        listing.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

        create = sub.add_parser("create", help="Create an application from a JSON file.")
        source = create.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", help="JSON document (see provisioning/appconfig.py); '-' reads stdin.")
        source.add_argument("--from-emulators", metavar="INFO_JSON", help="Info file written by the emulators.")
        create.add_argument("--name", help="Application name (with --from-emulators).")

        test = sub.add_parser("test-connection", help="Run Test Connection; exit code 1 when a test fails.")
        test.add_argument("app", help="Application slug or name.")
        which = test.add_mutually_exclusive_group()
        which.add_argument("--salesforce", action="store_true", help="Only the Salesforce connection.")
        which.add_argument("--entra", action="store_true", help="Only the Entra connection.")

        export = sub.add_parser("export", help="Print an application as JSON, without secrets.")
        export.add_argument("app", help="Application slug or name.")

    def handle(self, *args, subcommand: str, **options) -> None:
        {
            "list": self.do_list,
            "create": self.do_create,
            "test-connection": self.do_test_connection,
            "export": self.do_export,
        }[subcommand](**options)

    def do_list(self, json: bool = False, **_) -> None:
        rows = [
            {
                "slug": app.slug,
                "name": app.name,
                "mode": app.get_provisioning_mode_display(),
                "status": "On" if app.job.enabled else "Off",
                "salesforce_test": _last_test(app.salesforce),
                "entra_test": _last_test(app.entra),
            }
            for app in Application.objects.select_related("salesforce", "entra", "job").order_by("name")
        ]
        if json:
            self.stdout.write(_json_dumps(rows))
            return
        if not rows:
            self.stdout.write("No applications.")
            return
        headers = {
            "slug": "SLUG",
            "name": "NAME",
            "mode": "MODE",
            "status": "STATUS",
            "salesforce_test": "SALESFORCE TEST",
            "entra_test": "ENTRA TEST",
        }
        widths = {key: max(len(title), *(len(row[key]) for row in rows)) for key, title in headers.items()}
        for row in [headers, *rows]:
            self.stdout.write("  ".join(row[key].ljust(widths[key]) for key in headers).rstrip())

    def do_create(self, file: str | None = None, from_emulators: str | None = None, name: str | None = None, **_):
        if from_emulators:
            if not name:
                raise CommandError("--from-emulators needs --name.")
            info = read_json(from_emulators)
            try:
                config = config_from_emulator_info(info, name)
            except (KeyError, TypeError) as exc:
                raise CommandError(f"{from_emulators} is not an emulator info file (missing {exc}).")
        else:
            config = read_json(file)
            if name and isinstance(config, dict):
                config["name"] = name
        try:
            application = create_from_config(config)
        except ConfigError as exc:
            for error in exc.errors:
                self.stderr.write(f"  {error}")
            raise CommandError(f"Nothing was created: {len(exc.errors)} problem(s) in the configuration.")
        self.stdout.write(f"Created application {application.name!r} (slug {application.slug}).")

    def do_test_connection(self, app: str, salesforce: bool = False, entra: bool = False, **_) -> None:
        application = find_application(app)
        keys = ["salesforce"] if salesforce else ["entra"] if entra else list(CONNECTION_KEYS)
        failed = False
        for key in keys:
            check = connection_test.test_connection(getattr(application, key))
            outcome = "Succeeded" if check.ok else "Failed"
            self.stdout.write(f"{check.system}: {outcome} ({check.duration_ms} ms) - {check.message}")
            record_audit(
                AuditActivity.TEST_CONNECTION, actor=COMMAND_ACTOR, application=application, detail=check.summary
            )
            failed = failed or not check.ok
        if failed:
            raise CommandError("Test Connection failed.", returncode=1)

    def do_export(self, app: str, **_) -> None:
        self.stdout.write(_json_dumps(export_config(find_application(app))))


def _json_dumps(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
