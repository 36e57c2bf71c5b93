"""Writing many rows at once: a cycle's log entries, links and access ledger rows, the stored assignment snapshot.

On PostgreSQL rows go through psycopg's `COPY ... FROM STDIN` (one statement for any number of rows: no statement
text to build and parse per row, which is what made `bulk_create` of log rows 1.7x slower than SQLite); an upsert
copies into a temporary table and merges it with one `INSERT ... SELECT ... ON CONFLICT`. Elsewhere (SQLite) rows go
through `executemany` of one prepared INSERT. Either way values are prepared by the model's own fields
(`get_db_prep_save`), as the ORM would, and nothing is returned: callers that need primary keys use the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Model

EXECUTEMANY_CHUNK = 2000


def _uses_copy() -> bool:
    return connection.vendor == "postgresql"


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(connection.ops.quote_name(name) for name in names)


def _fields(model: type[Model], columns: Sequence[str]) -> list:
    by_column = {field.column: field for field in model._meta.concrete_fields}
    return [by_column[column] for column in columns]


# Fields whose value goes to the database as the Python value it already is (a str, int or bool, or None): preparing
# them through the field changes nothing, and cost more than the database's own work for 300,000 snapshot rows.
_PLAIN_FIELDS = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.BooleanField: (bool,),
    models.IntegerField: (int,),
    models.PositiveIntegerField: (int,),
    models.BigIntegerField: (int,),
    models.SmallIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,),
    models.PositiveBigIntegerField: (int,),
}


def _plain_types(field) -> tuple[type, ...]:
    """The Python types a field passes through unchanged; () when its values must be prepared by the field."""
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        return (int,) if type(target) in (models.AutoField, models.BigAutoField) else ()
    return _PLAIN_FIELDS.get(type(field), ())


_SLOW = object()  # a fast conversion's answer for a value it does not take: the field prepares it
_json_text = msgspec.json.Encoder().encode


def _jsonb_text(value: Any) -> Any:
    """A JSON value as the text PostgreSQL parses into jsonb (COPY sends text): msgspec's encoder, written in C,
    instead of `json.dumps` behind psycopg's Jsonb; jsonb keeps the value, not its spacing or escapes."""
    if isinstance(value, dict | list):
        try:
            return _json_text(value).decode()
        except TypeError:  # a value msgspec does not encode: the field's json.dumps says what it makes of it
            return _SLOW
    return _SLOW


def _aware(value: Any) -> Any:
    """An aware datetime goes to PostgreSQL as it is (its backend's `adapt_datetimefield_value` returns it)."""
    return value if type(value) is datetime and value.tzinfo is not None else _SLOW


def _fast(field) -> Callable[[Any], Any] | None:
    """A cheaper conversion than the field's own for the values it knows, on this database; None when none."""
    if connection.vendor != "postgresql":
        return None
    if type(field) is models.JSONField and field.encoder is None:
        return _jsonb_text
    if type(field) is models.DateTimeField and settings.USE_TZ:
        return _aware
    return None


def _prepared(fields: list, rows: Iterable[Sequence[Any]]) -> Iterable[list]:
    """Each row's values as the database takes them. A value of a type its field passes through unchanged (or
    None, in such a field) is sent as it is, a JSON or datetime value on PostgreSQL by a faster conversion, the rest
    by the field (`get_db_prep_save`); JSON null in a JSON field is the field's to write."""
    kinds = [(n, field, _plain_types(field), _fast(field)) for n, field in enumerate(fields)]
    plain = [(n, field, types) for n, field, types, _ in kinds if types]
    other = [(n, field, fast) for n, field, types, fast in kinds if not types]
    for row in rows:
        values = list(row)
        if len(values) != len(kinds):
            raise ValueError(f"{len(values)} values for {len(kinds)} columns")
        for n, field, types in plain:
            value = values[n]
            if value is not None and type(value) not in types:
                values[n] = field.get_db_prep_save(value, connection)
        for n, field, fast in other:
            value = values[n]
            if fast is not None:
                ready = fast(value)
                if ready is not _SLOW:
                    values[n] = ready
                    continue
            values[n] = field.get_db_prep_save(value, connection)
        yield values


def _stage(cursor, staging: str, table: str, columns: str, rows: Iterable[Sequence[Any]]) -> None:
    """Copy `rows` into the temporary table `staging`, made once per connection with `table`'s column types for
    `columns` (without the table's constraints: its NOT NULL id may have no value here) and emptied at commit."""
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "  # noqa: S608
        f"SELECT {columns} FROM {table} WITH NO DATA"
    )
    cursor.execute(f"TRUNCATE {staging}")
    with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
        for values in rows:
            copy.write_row(values)


def insert_rows(
    model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], *, ready: bool = False
) -> int:
    """INSERT rows (Python values in `columns` order, as the model's fields take them); returns how many. `ready`:
    every value is already what the database takes (str, int, bool or None), so none goes through its field."""
    fields = _fields(model, columns)
    table = connection.ops.quote_name(model._meta.db_table)
    count = 0
    with connection.cursor() as cursor:
        if _uses_copy():
            # Through psycopg's own cursor: its errors are made Django's (IntegrityError, ...) as the ORM's are.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({_quoted(columns)}) FROM STDIN") as copy,
            ):
                for values in rows if ready else _prepared(fields, rows):
                    copy.write_row(values)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({_quoted(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
        chunk: list = []
        for values in rows if ready else _prepared(fields, rows):
            chunk.append(values)
            if len(chunk) >= EXECUTEMANY_CHUNK:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count


def insert_objects(objects: Sequence[Model]) -> int:
    """INSERT model instances (every concrete field but the automatic primary key, defaults and auto_now applied)
    without reading their primary keys back."""
    if not objects:
        return 0
    meta = type(objects[0])._meta
    fields = [field for field in meta.concrete_fields if not (field.primary_key and field.db_returning)]
    columns = [field.column for field in fields]
    return insert_rows(type(objects[0]), columns, ([field.pre_save(obj, True) for field in fields] for obj in objects))


def upsert_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """INSERT rows, or UPDATE `update` columns of the row that has the same `conflict` columns (a unique index)."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    on_conflict = f"ON CONFLICT ({_quoted(conflict)}) DO UPDATE SET " + ", ".join(
        f"{connection.ops.quote_name(c)} = excluded.{connection.ops.quote_name(c)}" for c in update
    )
    fields = _fields(model, columns)
    with transaction.atomic(), connection.cursor() as cursor:
        if _uses_copy():
            staging = connection.ops.quote_name(f"bulk_{model._meta.db_table}")
            _stage(cursor, staging, table, _quoted(columns), _prepared(fields, rows))
            cursor.execute(
                f"INSERT INTO {table} ({_quoted(columns)}) SELECT {_quoted(columns)} FROM {staging} {on_conflict}"  # noqa: S608
            )
            cursor.execute(f"TRUNCATE {staging}")
            return
        sql = (
            f"INSERT INTO {table} ({_quoted(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "  # noqa: S608
            + on_conflict
        )
        prepared = list(_prepared(fields, rows))
        for start in range(0, len(prepared), EXECUTEMANY_CHUNK):
            cursor.executemany(sql, prepared[start : start + EXECUTEMANY_CHUNK])


def update_objects(objects: Sequence[Model], names: Sequence[str]) -> int:
    """UPDATE the fields `names` of model instances by primary key, instead of the CASE expression per row and field
    that `bulk_update` builds and the database then parses. On PostgreSQL the rows are copied into a temporary table
    and merged with one `UPDATE ... FROM`; elsewhere one prepared UPDATE runs for all of them (`executemany`).
    Returns how many instances were written."""
    if not objects:
        return 0
    meta = type(objects[0])._meta
    fields = [meta.pk, *(meta.get_field(name) for name in names)]
    table = connection.ops.quote_name(meta.db_table)
    rows = list(_prepared(fields, ([getattr(obj, field.attname) for field in fields] for obj in objects)))
    key, *columns = (connection.ops.quote_name(field.column) for field in fields)
    with transaction.atomic(), connection.cursor() as cursor:
        if _uses_copy():
            staging = connection.ops.quote_name(f"bulk_update_{meta.db_table}")
            _stage(cursor, staging, table, ", ".join([key, *columns]), rows)
            assignments = ", ".join(f"{column} = staged.{column}" for column in columns)
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM {staging} AS staged "  # noqa: S608
                f"WHERE {table}.{key} = staged.{key}"
            )
            cursor.execute(f"TRUNCATE {staging}")
            return len(rows)
        sql = f"UPDATE {table} SET {', '.join(f'{column} = %s' for column in columns)} WHERE {key} = %s"  # noqa: S608
        ordered = [[*values[1:], values[0]] for values in rows]
        for start in range(0, len(ordered), EXECUTEMANY_CHUNK):
            cursor.executemany(sql, ordered[start : start + EXECUTEMANY_CHUNK])
    return len(rows)
