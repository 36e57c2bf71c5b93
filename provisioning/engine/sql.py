"""The per-page reads' `column IN (ids)` as one parameter on PostgreSQL, and a page's rows found by index probes.

A page asks for the rows of up to 2,000 users at a time. Written as `IN (%s, %s, ...)`, each query carries 2,000
placeholders, which psycopg's client-side binding (Django's default) splits and quotes one by one on every query (too
long to be cached): about a tenth of an unchanged full cycle's CPU under cProfile. `column = ANY(%s)` sends the ids
as one array (https://www.postgresql.org/docs/current/functions-comparisons.html#FUNCTIONS-COMPARISONS-ANY-SOME) and
answers the same rows; SQLite, which has no arrays, keeps the IN list.

    ProvisionedLink.objects.filter(AnyOf(F("source_id"), ids), job_id=job_id)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, Lookup, Model, QuerySet
from django.db.models.expressions import RawSQL


class AnyOf(Lookup):
    """`lhs` equals one of the values of the list `rhs` (as `lhs__in=rhs`)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)  # the values as they are (ids: strings), never one value to prepare

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*lhs_params, values)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*lhs_params, *values)


def rows_of(model: type[Model], key: str, values: Iterable[str], **scope: Any) -> QuerySet:
    """The rows of `model` whose `key` is one of `values` and whose `scope` fields equal theirs (e.g. a job's links
    of a page of users), each found through an index on (scope fields..., key).

    On PostgreSQL `key = ANY(ids)` is planned from the table's statistics, and a table just filled by a cycle has
    none until autovacuum's next ANALYZE: the planner then reads every row of the job through the job's index and
    filters (95-380 ms a page of 1,900 at 100,000 links, whatever the page). Here the primary keys of each id's rows
    are looked up in a LATERAL subquery with OFFSET, which the planner does not pull up into a join, so each id is
    one probe of the index whatever the statistics say; the rows are then read by primary key (15 ms a page).
    SQLite's planner probes its index for `IN (...)` by itself.
    """
    manager = model._default_manager
    wanted = list(dict.fromkeys(values))
    if not wanted:
        return manager.none()
    if connection.vendor != "postgresql":
        return manager.filter(**{f"{key}__in": wanted}, **scope)
    meta = model._meta
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    conditions = [f"t.{quote(meta.get_field(name).column)} = %s" for name in scope]
    conditions.append(f"t.{quote(meta.get_field(key).column)} = wanted.value")
    # Names from the model's own metadata, quoted; the values are parameters.
    probe = f"SELECT t.{pk} FROM {table} AS t WHERE {' AND '.join(conditions)} OFFSET 0"  # noqa: S608
    keys = f"SELECT found.{pk} FROM unnest(%s::text[]) AS wanted(value) CROSS JOIN LATERAL ({probe}) AS found"  # noqa: S608
    condition = f"{table}.{pk} = ANY(ARRAY({keys}))"
    return manager.filter(RawSQL(condition, [wanted, *scope.values()], output_field=BooleanField()))  # noqa: S611
