"""Optimistic concurrency for everything an administrator edits: a version travels with the form, and a save from an
older version is refused with the other person's change shown beside yours. Nothing typed is lost.

The parts, and how to use them for a new kind of object (the Salesforce access page, say):

1. The model inherits `Versioned`, which adds `edit_version` (make a migration). Every save through this module
   writes an `EditRecord`: who, when, and field by field what changed (before and after; a secret only "changed").
2. The ModelForm mixes in `VersionedFormMixin` (before ModelForm). It adds a hidden `edit_version` field holding the
   version the form was loaded from, and remembers what the object held when the request came in. Name write-only
   fields in `secret_fields` and whole-object changes made outside the form's own fields (the clauses of a scoping
   filter) with `extra_changes()`.
3. The view calls `form.save_versioned(actor=request.user)` in a transaction. It raises `EditConflict` when the object
   changed since the form was loaded (or was deleted). Then `form.keep_for_conflict(exc.conflict)` sets the form up
   again with what was typed and the current version, and the page renders it with
   `{% include "partials/edit_conflict.html" with conflict=form.conflict %}` above it: who changed what and when, the
   value the form was opened with, theirs and yours side by side. Saving again then deliberately puts yours over
   theirs; leaving the page keeps theirs. Answer 409.
4. Code that changes such an object outside a form (an import, Start/Stop, a rewrite of expressions) calls
   `save_changes()`, and deleting calls `record_deletion()`, so that every open form sees it.

The check and the write are one statement, `UPDATE ... SET ..., edit_version = edit_version + 1 WHERE pk = %s AND
edit_version = %s`: of two concurrent saves from the same version exactly one updates a row, on SQLite and on
PostgreSQL alike (whose READ COMMITTED re-checks the WHERE clause against the row the other transaction committed).
Two forms that edit different fields of one object (the Settings and the Provisioning Status of a job) do not refuse
each other: a save whose version is behind only because of changes to fields it does not show is retried on the
current version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import capfirst

SECRET_CHANGED = "changed"
# A save retried because only other fields changed meanwhile gives up after this many rounds (each round means yet
# another save of the same object landed in between).
MAX_ROUNDS = 5


class Versioned(models.Model):
    """An object administrators edit: `edit_version` counts its saves."""

    edit_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True


class EditRecord(models.Model):
    """One save (or the deletion) of a versioned object: the history a refused save is shown against."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_pk = models.CharField(max_length=64)
    # The counter this record belongs to and the value the save gave it: "edit_version" for an object's own fields;
    # an object may keep a second one for a wider scope (an object mapping's "version" counts every change of the
    # mapping, its rows and filters included).
    version_field = models.CharField(max_length=40, default="edit_version")
    version = models.PositiveIntegerField()
    deleted = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=150, blank=True)
    # [{"field", "label", "before", "after", "secret"}]: display text, never a secret's value.
    changes = models.JSONField(default=list, blank=True)
    summary = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["version", "id"]
        indexes = [models.Index(fields=["content_type", "object_pk", "version_field", "version"], name="edit_history")]

    def __str__(self) -> str:
        return f"{self.actor_name} {'deleted' if self.deleted else 'saved'} {self.content_type} {self.object_pk}"

    @property
    def fields(self) -> list[str]:
        return [change["field"] for change in self.changes]

    @property
    def labels(self) -> list[str]:
        return [change["label"] for change in self.changes]


@dataclass
class ConflictRow:
    label: str
    opened: str  # what the form showed when it was loaded
    theirs: str  # what is saved now
    yours: str  # what was typed
    they_changed: bool
    you_changed: bool


@dataclass
class Conflict:
    """Why a save was refused: the saves since the form's version (or the deletion), and the fields side by side."""

    records: list[EditRecord]
    current_version: int | None  # None: the object was deleted
    rows: list[ConflictRow] = field(default_factory=list)

    @property
    def deleted(self) -> EditRecord | None:
        return next((r for r in self.records if r.deleted), None)

    @property
    def last(self) -> EditRecord | None:
        return self.records[-1] if self.records else None


def refusal_text(conflict: Conflict) -> str:
    """One sentence for a message: who changed or deleted it, when, and which fields."""
    last = conflict.last
    if last is None:
        return "it changed after the page was loaded."
    fields = f" ({', '.join(last.labels)})" if last.labels and not last.deleted else ""
    more = f", after {len(conflict.records) - 1} other save(s)" if len(conflict.records) > 1 else ""
    what = "deleted it" if last.deleted else "changed it"
    return f"{last.actor_name} {what} at {last.at:%Y-%m-%d %H:%M:%S}{fields}{more}, after you opened it."


class EditConflict(Exception):
    """A save from an older version was refused; `conflict` says what happened meanwhile."""

    def __init__(self, conflict: Conflict) -> None:
        super().__init__(f"Not saved: {refusal_text(conflict)}")
        self.conflict = conflict


def posted_version(request: HttpRequest, name: str = "edit_version") -> int:
    """The version a form without a ModelForm (a Delete button, an import) was loaded with; 0 when it has none, which
    no object has, so such a post is refused rather than applied blind."""
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() else 0


# -- history -----------------------------------------------------------------------------------------------------


def _actor_fields(actor: Any) -> dict[str, Any]:
    user = actor if getattr(actor, "is_authenticated", False) else None
    name = user.get_username() if user else (actor if isinstance(actor, str) else "system")
    return {"actor": user, "actor_name": name[:150]}


def _display(model_field: models.Field | None, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, list | tuple):  # a JSON list, or the chosen objects of a many-to-many field
        return "; ".join(str(v) for v in value)
    return str(value)


def change(name: str, label: str, before: str, after: str, *, secret: bool = False) -> dict[str, Any]:
    """One entry of EditRecord.changes (secrets: give before/after as "" and secret=True)."""
    if secret:
        return {"field": name, "label": label, "before": "", "after": SECRET_CHANGED, "secret": True}
    return {"field": name, "label": label, "before": before, "after": after, "secret": False}


def field_changes(
    instance: models.Model, before: dict[str, Any], names: Iterable[str], labels: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The plain fields among `names` whose value on `instance` differs from `before`, as EditRecord.changes."""
    found = []
    for name in names:
        model_field = instance._meta.get_field(name)
        old, new = _display(model_field, before.get(name)), _display(model_field, getattr(instance, name))
        if old != new:
            label = (labels or {}).get(name) or capfirst(str(model_field.verbose_name))
            found.append(change(name, str(label), old, new))
    return found


def history(model: type[models.Model], pk: Any, *, after: int, version_field: str = "edit_version") -> list[EditRecord]:
    """The saves and the deletion of one object since version `after`, oldest first."""
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    records = EditRecord.objects.filter(content_type=content_type, object_pk=str(pk), version_field=version_field)
    return list(records.filter(models.Q(version__gt=after) | models.Q(deleted=True)).order_by("deleted", "version"))


def write_record(
    instance: models.Model,
    version: int,
    changes: list[dict[str, Any]],
    *,
    actor: Any = None,
    summary: str = "",
    version_field: str = "edit_version",
    deleted: bool = False,
) -> EditRecord:
    return EditRecord.objects.create(
        content_type=ContentType.objects.get_for_model(type(instance), for_concrete_model=False),
        object_pk=str(instance.pk),
        version_field=version_field,
        version=version,
        deleted=deleted,
        changes=changes,
        summary=summary[:500],
        **_actor_fields(actor),
    )


def record_deletion(instance: Versioned, *, actor: Any = None, summary: str = "") -> EditRecord:
    """Call before deleting a versioned object: a form still open on it is then told who deleted it, and when."""
    return write_record(instance, instance.edit_version, [], actor=actor, summary=summary, deleted=True)


def deletion_of(model: type[models.Model], pk: Any) -> EditRecord | None:
    """Who deleted the object `pk` of `model`, and when (None when it was not deleted through this module)."""
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    return EditRecord.objects.filter(content_type=content_type, object_pk=str(pk), deleted=True).first()


def deleted_conflict(model: type[models.Model], pk: Any) -> Conflict | None:
    """The refusal of a save of an object that is gone, or None when nothing says it was deleted (a plain 404)."""
    record = deletion_of(model, pk)
    return Conflict(records=[record], current_version=None) if record else None


def only_other_fields(records: Sequence[EditRecord], shown: Iterable[str], expected: int, current: int) -> bool:
    """True when the saves from `expected` to `current` are all on record and none touched a field in `shown`: a
    form showing only other fields (the Provisioning Status beside the Settings) may then be saved. A version with
    no record (set by hand, or before this history existed) counts as a change of everything."""
    shown = set(shown)
    saved = {r.version for r in records if not r.deleted}
    if any(r.deleted for r in records) or not saved >= set(range(expected + 1, current + 1)):
        return False
    return not any(shown & set(r.fields) for r in records)


# -- writing -------------------------------------------------------------------------------------------------------


def _column_values(instance: models.Model, names: Iterable[str]) -> dict[str, Any]:
    values = {}
    for name in names:
        model_field = instance._meta.get_field(name)
        values[model_field.attname] = model_field.pre_save(instance, False)  # applies auto_now
    for model_field in instance._meta.concrete_fields:
        if getattr(model_field, "auto_now", False) and model_field.attname not in values:
            values[model_field.attname] = model_field.pre_save(instance, False)
    return values


@transaction.atomic
def save_versioned(
    instance: Versioned,
    names: Sequence[str],
    *,
    expected: int,
    changes: list[dict[str, Any]],
    shown: Iterable[str] | None = None,
    actor: Any = None,
    summary: str = "",
) -> int:
    """Write `names` of `instance` if its version is still `expected`; returns the new version.

    `shown` are the fields the form showed (default `names`): saves since `expected` that touched none of them do not
    refuse this one. Raises EditConflict otherwise, or when the object was deleted.
    """
    model = type(instance)
    shown = set(shown if shown is not None else names)
    values = _column_values(instance, names)
    version = expected
    for _round in range(MAX_ROUNDS):
        written = model._base_manager.filter(pk=instance.pk, edit_version=version).update(
            edit_version=F("edit_version") + 1, **values
        )
        if written:
            instance.edit_version = version + 1
            write_record(instance, version + 1, changes, actor=actor, summary=summary)
            return version + 1
        current = model._base_manager.filter(pk=instance.pk).values_list("edit_version", flat=True).first()
        records = history(model, instance.pk, after=expected)
        if current is None or not only_other_fields(records, shown, expected, current):
            raise EditConflict(Conflict(records=records, current_version=current))
        version = current  # only fields this form does not show changed meanwhile: nothing of theirs is undone
    raise EditConflict(Conflict(records=history(model, instance.pk, after=expected), current_version=version))


@transaction.atomic
def save_changes(
    instance: Versioned,
    names: Sequence[str],
    *,
    before: dict[str, Any],
    actor: Any = None,
    summary: str = "",
    extra: Sequence[dict[str, Any]] = (),
    quiet: Sequence[str] = (),
) -> int | None:
    """Write `names` whatever the version (an import, Start/Stop: not an edit of something the writer looked at) and
    bump it, so that forms opened before are refused. `before` holds the values the caller read under lock; `quiet`
    fields are written but not shown in the record (an internal copy such as an imported source tree). Returns the
    new version, or None when nothing changed (nothing is written then)."""
    changes = [*field_changes(instance, before, [n for n in names if n not in quiet]), *extra]
    if not changes and all(before.get(n) == getattr(instance, n) for n in quiet):
        return None
    model = type(instance)
    values = _column_values(instance, names)
    model._base_manager.filter(pk=instance.pk).update(edit_version=F("edit_version") + 1, **values)
    instance.edit_version = model._base_manager.filter(pk=instance.pk).values_list("edit_version", flat=True).get()
    write_record(instance, instance.edit_version, changes, actor=actor, summary=summary)
    return instance.edit_version


@transaction.atomic
def delete_versioned(instance: Versioned, *, expected: int, actor: Any = None, summary: str = "") -> None:
    """Delete `instance` if it is still at version `expected` (one conditional DELETE), leaving the record that
    tells forms still open on it who deleted it; raises EditConflict (nothing deleted) when it changed since."""
    model = type(instance)
    pk = instance.pk
    _total, per_model = model._base_manager.filter(pk=pk, edit_version=expected).delete()
    if not per_model.get(model._meta.label):
        current = model._base_manager.filter(pk=pk).values_list("edit_version", flat=True).first()
        raise EditConflict(Conflict(records=history(model, pk, after=expected), current_version=current))
    record_deletion(instance, actor=actor, summary=summary)


def snapshot(instance: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """The values of `names` on `instance`; a many-to-many field as the sorted names of what it holds."""
    many = {f.name for f in instance._meta.many_to_many}
    return {
        name: (sorted(str(o) for o in getattr(instance, name).all()) if instance.pk else [])
        if name in many
        else getattr(instance, name)
        for name in names
    }


# -- forms ---------------------------------------------------------------------------------------------------------


class VersionedFormMixin(forms.BaseForm):
    """For a ModelForm of a Versioned model: carries the version, saves conditionally, shows a refusal."""

    secret_fields: tuple[str, ...] = ()
    # Parts of the object the form edits beyond its model fields, as named in `extra` changes ("clauses").
    also_shown: tuple[str, ...] = ()
    conflict: Conflict | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["edit_version"] = forms.IntegerField(
            widget=forms.HiddenInput, min_value=1, required=False, initial=self.instance.edit_version
        )
        # What the object held when this request came in: the "before" of this save, and "theirs" of a conflict.
        self.loaded_version = self.instance.edit_version
        self.loaded = snapshot(self.instance, self.versioned_fields())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("edit_version") is None and not self.instance._state.adding:
            self.add_error(None, "This form carries no version (it was loaded before an update of the console): reload "
                           "the page and enter your change again.")  # fmt: skip
        return cleaned

    def versioned_fields(self) -> list[str]:
        """The model fields this form shows and writes (secrets included)."""
        return [*self._meta.fields, *self.secret_fields]

    def _many_to_many(self) -> list[str]:
        many = {f.name for f in self.instance._meta.many_to_many}
        return [name for name in self._meta.fields if name in many]

    # Hooks for forms that write more than their plain fields --------------------------------------------------------
    def fields_to_write(self) -> list[str]:
        """The columns the conditional UPDATE writes (many-to-many fields follow it through save_m2m())."""
        return [name for name in self._meta.fields if name not in self._many_to_many()]

    def extra_changes(self) -> list[dict[str, Any]]:
        """Changes beyond the plain fields (secrets set or cleared; child rows given to save_versioned as `extra`),
        as EditRecord.changes."""
        return list(getattr(self, "_extra", ()))

    # Saving ----------------------------------------------------------------------------------------------------------
    def pending_changes(self) -> list[dict[str, Any]]:
        labels = {name: self.fields[name].label for name in self._meta.fields if self.fields[name].label}
        plain = [name for name in self._meta.fields if name not in self._many_to_many()]
        changes = field_changes(self.instance, self.loaded, plain, labels)
        for name in self._many_to_many():
            before, after = self.loaded[name], sorted(str(o) for o in self.cleaned_data.get(name) or ())
            if before != after:
                changes.append(change(name, str(labels.get(name, name)), _display(None, before), _display(None, after)))
        return [*changes, *self.extra_changes()]

    def save_versioned(self, *, actor: Any = None, summary: str = "", extra: Sequence[dict] = ()) -> list[dict]:
        """Save if the object is still at the form's version; returns the changes saved ([] when there were none).

        Raises EditConflict (nothing is written) when someone else saved or deleted it since the form was loaded.
        `extra`: changes the caller writes beside the form's fields (a filter's clauses), recorded with them.
        """
        self._extra = list(extra)
        expected = self.cleaned_data["edit_version"]
        instance = self.save(commit=False)
        changes = self.pending_changes()
        if instance._state.adding:  # a new object: nobody else can have saved it
            instance.save()
            self.save_m2m()
            write_record(instance, instance.edit_version, changes, actor=actor, summary=summary)
            return changes
        if expected != self.loaded_version:
            self._refuse(expected)
        if not changes:
            return []
        save_versioned(
            instance,
            self.fields_to_write(),
            expected=expected,
            changes=changes,
            shown=[*self.versioned_fields(), *self.also_shown],
            actor=actor,
            summary=summary,
        )
        self.save_m2m()
        return changes

    def _refuse(self, expected: int) -> None:
        records = history(type(self.instance), self.instance.pk, after=expected)
        shown = {*self.versioned_fields(), *self.also_shown}
        if only_other_fields(records, shown, expected, self.loaded_version):
            return  # only fields this form does not show changed: save_versioned() retries on the current version
        raise EditConflict(Conflict(records=records, current_version=self.loaded_version))

    # After a refusal -------------------------------------------------------------------------------------------------
    def keep_for_conflict(self, conflict: Conflict) -> None:
        """Show the form again with what was typed, the differences, and the current version (a new Save then
        deliberately puts this over theirs)."""
        if conflict.current_version is not None:  # what is saved now, which may be newer than this request's read
            current = type(self.instance)._base_manager.get(pk=self.instance.pk)
            self.loaded = snapshot(current, self.versioned_fields())
        conflict.rows = self.conflict_rows(conflict)
        self.conflict = conflict
        data = self.data.copy()
        if conflict.current_version is not None:
            data[self.add_prefix("edit_version")] = str(conflict.current_version)
        self.data = data

    def conflict_rows(self, conflict: Conflict) -> list[ConflictRow]:
        """Every field they or you changed: as the form was opened, as saved now (theirs), as typed (yours)."""
        theirs: dict[str, dict[str, Any]] = {}
        for record in conflict.records:
            for item in record.changes:
                first = theirs.setdefault(item["field"], dict(item))  # the earliest "before": what the form showed
                first["after"] = item["after"]  # the latest "after": what is saved now
        yours = {item["field"]: item for item in self.pending_changes()}
        names = [n for n in self.versioned_fields() if n in theirs or n in yours]
        names += [n for n in {**theirs, **yours} if n not in names]  # pseudo-fields such as a filter's clauses
        return [self._conflict_row(name, theirs.get(name), yours.get(name)) for name in names]

    def _conflict_row(self, name: str, theirs: dict | None, yours: dict | None) -> ConflictRow:
        label = capfirst((theirs or yours or {}).get("label") or name)
        if name in self.secret_fields or (theirs and theirs["secret"]):
            return ConflictRow(
                label,
                opened="",
                theirs=SECRET_CHANGED if theirs else "unchanged",
                yours="new value typed (kept, not shown)" if yours else "unchanged",
                they_changed=theirs is not None,
                you_changed=yours is not None,
            )
        if name in self.loaded:
            now = _display(_model_field(self.instance, name), self.loaded[name])
        else:
            now = theirs["after"] if theirs else yours["before"]
        return ConflictRow(
            label,
            opened=theirs["before"] if theirs else (yours["before"] if yours else now),
            theirs=now,
            yours=yours["after"] if yours else now,
            they_changed=theirs is not None,
            you_changed=yours is not None,
        )


def _model_field(instance: models.Model, name: str) -> models.Field | None:
    try:
        return instance._meta.get_field(name)
    except FieldDoesNotExist:  # a pseudo-field such as a filter's clauses
        return None
