"""Each filter of the Provisioning logs page, read from the URL, and the columns chosen by the user."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from provisioning.applications import create_application
from provisioning.logquery import filtered_entries, parse_filters
from tests.logs.conftest import make_cycle, make_entry


@pytest.fixture
def world(job, cycle):
    other_cycle = make_cycle(job)
    rows = {
        "alice": make_entry(
            cycle, number=1, upn="alice@contoso.com", source_display_name="Alice Wu", action="create", minutes_ago=5
        ),
        "bob": make_entry(
            cycle,
            number=2,
            upn="bob@contoso.com",
            source_display_name="Bob Marsh",
            status="failure",
            error_code="SalesforceDuplicateUserName",
            minutes_ago=60 * 30,
        ),
        "carol": make_entry(
            other_cycle,
            number=3,
            upn="carol@contoso.com",
            source_display_name="Carol Ng",
            action="disable",
            minutes_ago=60 * 24 * 10,
        ),
        "dave": make_entry(
            other_cycle,
            number=4,
            upn="dave@contoso.com",
            source_display_name="Dave Oak",
            status="skipped",
            action="other",
            minutes_ago=60 * 24 * 40,
        ),
    }
    # Another application's rows never show.
    stranger = create_application("Other sandbox")
    make_entry(make_cycle(stranger.job), number=9, upn="alice.other@contoso.com", source_display_name="Alice Other")
    return rows, other_cycle


def names(response) -> list[str]:
    return [e.source_upn.split("@")[0] for e in response.context["page"].entries]


def get(client, application, **params):
    response = client.get(reverse("provisioning_logs", args=[application.slug]), params)
    assert response.status_code == 200
    return response


def test_no_filter_lists_this_application_newest_first(reader_client, application, world):
    assert names(get(reader_client, application)) == ["alice", "bob", "carol", "dave"]


@pytest.mark.parametrize(
    "value,expected",
    [
        ("alice@", ["alice"]),
        ("Bob", ["bob"]),
        ("Carol Ng", ["carol"]),
        ("nobody", []),
        ("ALICE", ["alice"]),
        ("bob marsh", ["bob"]),
    ],
)
def test_identity_by_upn_or_display_name_prefix(reader_client, application, world, value, expected):
    assert names(get(reader_client, application, identity=value)) == expected


def test_identity_by_source_id_and_salesforce_id(reader_client, application, world):
    rows, _ = world
    assert names(get(reader_client, application, identity=rows["carol"].source_id)) == ["carol"]
    assert names(get(reader_client, application, identity=rows["carol"].source_id.upper())) == ["carol"]
    assert names(get(reader_client, application, identity=rows["dave"].target_id)) == ["dave"]


@pytest.mark.parametrize(
    "date,expected", [("24h", ["alice"]), ("7d", ["alice", "bob"]), ("30d", ["alice", "bob", "carol"])]
)
def test_date_ranges(reader_client, application, world, date, expected):
    assert names(get(reader_client, application, date=date)) == expected


def test_custom_date_range_includes_both_days(reader_client, application, world):
    day = (timezone.now() - timedelta(days=10)).date()
    response = get(reader_client, application, date="custom", start=day.isoformat(), end=day.isoformat())
    assert names(response) == ["carol"]
    swapped = get(
        reader_client, application, date="custom", start=day.isoformat(), end=(day - timedelta(days=1)).isoformat()
    )
    assert any("swapped" in message for message in swapped.context["filters"].messages)


def test_status_and_action(reader_client, application, world):
    assert names(get(reader_client, application, status="failure")) == ["bob"]
    assert names(get(reader_client, application, action="disable")) == ["carol"]
    assert names(get(reader_client, application, status="success", action="create")) == ["alice"]


def test_unknown_status_is_ignored_with_a_message(reader_client, application, world):
    response = get(reader_client, application, status="<script>")
    assert len(names(response)) == 4
    assert "Unknown status" in response.content.decode()
    assert "<script>" not in response.content.decode()


def test_cycle_and_change_id(reader_client, application, world):
    rows, other_cycle = world
    assert names(get(reader_client, application, cycle=other_cycle.cycle_id)) == ["carol", "dave"]
    assert names(get(reader_client, application, change=rows["bob"].change_id)) == ["bob"]
    assert names(get(reader_client, application, cycle="not-a-cycle")) == []


def test_choices_come_from_the_data(reader_client, application, world):
    response = get(reader_client, application)
    offered = {
        name: [v for v, _ in response.context["filters"][name].field.widget.choices] for name in ("action", "status")
    }
    assert offered["action"] == ["", "create", "update", "disable", "other"]
    assert offered["status"] == ["", "success", "failure", "skipped"]
    content = response.content.decode()
    assert '<option value="delete"' not in content
    assert '<span class="badge badge-green">Create</span>' in content
    assert '<span class="badge badge-red">Failure</span>' in content


def test_columns_chosen_by_the_user_stay_in_the_links(reader_client, application, job, cycle):
    for n in range(55):
        make_entry(cycle, number=n, minutes_ago=n)
    response = get(reader_client, application, cols=["date", "upn", "error_code"], status="success")
    assert response.context["filters"].columns == ["date", "upn", "error_code"]
    content = response.content.decode()
    assert '<th scope="col">Error code</th>' in content and '<th scope="col">Source System</th>' not in content
    older = response.context["older_url"]
    assert "cols=upn" in older and "status=success" in older


def test_parse_filters_accepts_a_plain_dict(job, cycle):
    make_entry(cycle, status="failure")
    filters = parse_filters({"status": "failure", "cols": "date,status"})
    assert filters.columns == ["date", "status"]
    assert filtered_entries(job, filters).count() == 1
