"""AnyOf (provisioning/engine/sql.py) answers the rows `__in` answers, with the ids as one parameter on PostgreSQL."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import F

from provisioning.engine.sql import AnyOf

pytestmark = pytest.mark.django_db


@pytest.fixture
def names():
    for n in range(30):
        User.objects.create(username=f"user{n:02d}")
    return [f"user{n:02d}" for n in range(0, 30, 3)]


@pytest.mark.parametrize(
    "wanted",
    [
        ["user00"],
        ["user03", "user03", "user27", "nobody"],  # duplicates and a name no row has
        [f"user{n:02d}" for n in range(30)],
        ["nobody", "o'brien", "a,b", '{"x"}', "back\\slash"],  # what an array literal would need quoted
    ],
)
def test_any_of_finds_the_rows_in_finds(names, wanted):
    by_in = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    by_any = set(User.objects.filter(AnyOf(F("username"), wanted)).values_list("username", flat=True))
    assert by_any == by_in


def test_any_of_an_empty_list_finds_nothing(names):
    assert list(User.objects.filter(AnyOf(F("username"), []))) == []
    assert User.objects.exclude(AnyOf(F("username"), [])).count() == 30


def test_any_of_sends_the_list_as_one_parameter_on_postgresql(names):
    sql, params = User.objects.filter(AnyOf(F("username"), names)).query.sql_with_params()
    if connection.vendor == "postgresql":
        assert "= ANY(%s)" in sql and list(params) == [names]
    else:
        assert "IN (" in sql and list(params) == names
