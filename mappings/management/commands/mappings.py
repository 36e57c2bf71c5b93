"""python manage.py mappings export APP | import APP FILE | test APP --expression EXPR (--user UPN | --sample JSON)

Mappings as code: the JSON is Graph's synchronization objectMapping (see mappings/graph_json.py), so a mapping
exported from Entra's schema editor can be brought in. Exit code 0 on success, 1 with a message on failure.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from connections.models import Application
from console.concurrency import EditConflict
from console.json_input import JsonInputError, read_json_file
from mappings.graph_json import MappingImportError, export_object_mapping, import_object_mapping
from mappings.models import ObjectMapping
from mappings.tester import evaluate_for_user, evaluate_sample, parse_sample

COMMAND_ACTOR = "manage.py mappings"


def find_object_mapping(name: str) -> ObjectMapping:
    application = Application.objects.filter(Q(slug=name) | Q(name=name)).first()
    if application is None:
        known = ", ".join(Application.objects.values_list("slug", flat=True)) or "none"
        raise CommandError(f"No application {name!r} (known: {known}).")
    mapping = ObjectMapping.objects.filter(application=application).select_related("application").first()
    if mapping is None:
        raise CommandError(f"Application {application.slug} has no user mapping; restore the defaults in the console.")
    return mapping


class Command(BaseCommand):
    help = "Export, import and test attribute mappings (Graph objectMapping JSON)."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{export,import,test}")
        export = sub.add_parser("export", help="Print the user mapping as Graph objectMapping JSON.")
        export.add_argument("app", help="Application slug or name.")
        export.add_argument("--output", "-o", help="Write to this file instead of standard output.")

        load = sub.add_parser("import", help="Replace the user mapping with a JSON file; nothing changes on error.")
        load.add_argument("app", help="Application slug or name.")
        load.add_argument("file", help="objectMapping (or synchronization schema) JSON; '-' reads standard input.")
        load.add_argument(
            "--expect-version",
            type=int,
            metavar="N",
            help="Import only if the mapping is still at version N (export prints it): a change made since in the "
            "console is then reported instead of overwritten.",
        )

        test = sub.add_parser("test", help="Evaluate an expression for a live Entra user or a sample.")
        test.add_argument("app", help="Application slug or name.")
        test.add_argument("--expression", "-e", required=True, help="e.g. 'Append([userPrincipalName], \".uat\")'")
        who = test.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="User principal name or object ID, read through Microsoft Graph.")
        who.add_argument("--sample", help='A sample user as JSON, e.g. \'{"userPrincipalName": "a@b.com"}\'.')
        test.add_argument(
            "--target",
            default="",
            help="The Salesforce attribute mapped (SelectUniqueValue checks its candidates there).",
        )

    def handle(self, *args, subcommand: str, **options) -> None:
        {"export": self.do_export, "import": self.do_import, "test": self.do_test}[subcommand](**options)

    def do_export(self, app: str, output: str | None = None, **_) -> None:
        mapping = find_object_mapping(app)
        text = json.dumps(export_object_mapping(mapping), indent=2, ensure_ascii=False)
        # On standard error, so that the JSON on standard output stays Graph's shape.
        self.stderr.write(f"Mapping version {mapping.version} (import --expect-version {mapping.version} refuses an "
                          "import over changes made after this export).")  # fmt: skip
        if output:
            Path(output).write_text(text + "\n", encoding="utf-8")
            self.stdout.write(f"Wrote {output}.")
        else:
            self.stdout.write(text)

    def do_import(self, app: str, file: str, expect_version: int | None = None, **_) -> None:
        mapping = find_object_mapping(app)
        try:
            document = read_json_file(file)
        except JsonInputError as exc:
            raise CommandError(str(exc))
        try:
            parsed = import_object_mapping(mapping, document, actor=COMMAND_ACTOR, expected_version=expect_version)
        except EditConflict as refused:
            for record in refused.conflict.records:
                self.stderr.write(
                    f"  {record.at:%Y-%m-%d %H:%M:%S} {record.actor_name}: {record.summary or ', '.join(record.labels)}"
                )
            raise CommandError(
                f"Nothing was imported: the mapping is at version {refused.conflict.current_version}, not "
                f"{expect_version}; it changed since (above). Export it again and merge, or import without "
                "--expect-version to replace it."
            )
        except MappingImportError as exc:
            for error in exc.errors:
                self.stderr.write(f"  {error}")
            raise CommandError(f"Nothing was imported: {len(exc.errors)} problem(s) in {file}.")
        self.stdout.write(
            f"Imported {len(parsed.rows)} attribute mappings and {len(parsed.filters)} scoping filters into "
            f"{mapping.application.slug}; the next cycle re-evaluates every user."
        )

    def do_test(
        self, app: str, expression: str, user: str | None = None, sample: str | None = None, target: str = "", **_
    ) -> None:
        mapping = find_object_mapping(app)
        if user:
            outcome = evaluate_for_user(mapping.application, expression, user, target)
        else:
            try:
                outcome = evaluate_sample(mapping.application, expression, parse_sample(sample or ""), target)
            except ValueError as exc:
                raise CommandError(str(exc))
        for name, value in outcome.user.items():
            self.stdout.write(f"  [{name}] = {json.dumps(value, ensure_ascii=False)}")
        if not outcome.ok:
            raise CommandError(outcome.error)
        self.stdout.write(outcome.result)
