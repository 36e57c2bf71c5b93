"""Keyset paging: no OFFSET, and no duplicate or missing row across pages even while new rows arrive."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from provisioning.logquery import decode_cursor, encode_cursor, iter_keyset, keyset_page
from provisioning.models import ProvisioningLogEntry
from tests.logs.conftest import make_entry


def params_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_walking_older_pages_sees_every_row_once_while_new_rows_arrive(reader_client, application, cycle):
    now = timezone.now()
    # Several rows share one timestamp: the id breaks the tie.
    for n in range(130):
        make_entry(cycle, number=n, activity_at=now - timedelta(seconds=n // 3))
    expected = list(ProvisioningLogEntry.objects.order_by("-activity_at", "-id").values_list("pk", flat=True))
    url = reverse("provisioning_logs", args=[application.slug])
    seen: list[int] = []
    params: dict = {}
    for page_number in range(10):
        response = reader_client.get(url, params)
        seen += [e.pk for e in response.context["page"].entries]
        # New rows arrive between two page views (newer than everything shown).
        make_entry(cycle, number=1000 + page_number, activity_at=timezone.now() + timedelta(seconds=1))
        older = response.context["older_url"]
        if not older:
            break
        params = params_of(older)
    assert seen == expected
    assert len(seen) == len(set(seen)) == 130


def test_newer_link_goes_back_to_the_previous_page(reader_client, application, cycle):
    now = timezone.now()
    for n in range(120):
        make_entry(cycle, number=n, activity_at=now - timedelta(seconds=n))
    url = reverse("provisioning_logs", args=[application.slug])
    first = reader_client.get(url)
    second = reader_client.get(url, params_of(first.context["older_url"]))
    third = reader_client.get(url, params_of(second.context["older_url"]))
    assert len(third.context["page"].entries) == 20 and third.context["older_url"] is None
    back = reader_client.get(url, params_of(third.context["newer_url"]))
    assert [e.pk for e in back.context["page"].entries] == [e.pk for e in second.context["page"].entries]
    top = reader_client.get(url, params_of(back.context["newer_url"]))
    assert [e.pk for e in top.context["page"].entries] == [e.pk for e in first.context["page"].entries]
    assert top.context["newer_url"] is None


def test_pages_never_use_offset(job, cycle):
    for n in range(60):
        make_entry(cycle, number=n, minutes_ago=n)
    entries = ProvisioningLogEntry.objects.filter(job=job).order_by("-activity_at", "-id")
    first = keyset_page(entries)
    with CaptureQueriesContext(connection) as queries:
        second = keyset_page(entries, after=first.older)
    assert len(second.entries) == 10
    assert all("OFFSET" not in q["sql"].upper() for q in queries.captured_queries)


def test_a_malformed_cursor_starts_at_the_top(reader_client, application, cycle):
    make_entry(cycle)
    response = reader_client.get(reverse("provisioning_logs", args=[application.slug]), {"after": "garbage,,x"})
    assert response.status_code == 200 and len(response.context["page"].entries) == 1
    assert decode_cursor("2026-01-01T00:00:00.000000Z,abc") is None


def test_cursor_round_trip(cycle):
    entry = make_entry(cycle)
    when, pk = decode_cursor(encode_cursor(entry))
    assert pk == entry.pk and when == entry.activity_at


def test_iter_keyset_reads_everything_in_chunks(job, cycle):
    now = timezone.now()
    for n in range(23):
        make_entry(cycle, number=n, activity_at=now - timedelta(seconds=n // 4))
    entries = ProvisioningLogEntry.objects.filter(job=job)
    assert [e.pk for e in iter_keyset(entries, chunk_size=5)] == list(
        entries.order_by("-activity_at", "-id").values_list("pk", flat=True)
    )


def test_htmx_paging_gets_only_the_table(reader_client, application, cycle):
    for n in range(60):
        make_entry(cycle, number=n, minutes_ago=n)
    url = reverse("provisioning_logs", args=[application.slug])
    page = reader_client.get(url).content.decode()
    assert 'hx-target="#log-table"' in page
    partial = reader_client.get(url, {"status": "success"}, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="log-table">') and "<html" not in partial
    assert partial.count("<tr>") == 51
