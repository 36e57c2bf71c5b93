"""The JSON download writes every text as Python's JSON encoder does, whichever database reads it: on PostgreSQL the
database escapes the leaves (to_json, provisioning.logsql), on SQLite Python does. Strings of every awkward kind:
each control character, quotes and backslashes, U+2028 and U+2029 (written as they are), non-ASCII and emoji, a
byte order mark, long values. (PostgreSQL's text cannot hold U+0000, and UTF-8 text cannot hold a lone surrogate.)"""

from __future__ import annotations

import json
import random

import pytest
from django.db import connection
from django.urls import reverse

from provisioning.logcolumns import GRAPH_SUMMARY, LOG_COLUMNS, LogContext, compact_json, compile_shape
from provisioning.models import ProvisioningLogEntry
from tests.logs.conftest import make_entry

AWKWARD = ['"', "\\", '\\"', "\\u0041", *map(chr, range(1, 32)), "\x7f", "\x80", "\u2028", "\u2029", "\ufeff",
           "zoë Ångström", "🙂👩‍💻", "a,b\r\nc", "%s %(x)s {} {{", "", " ", "x" * 20000]  # fmt: skip
ALPHABET = [chr(c) for c in range(1, 32)] + list("\"\\/'%{} abcXYZ09,") + ["\x7f", "é", "\u2028", "\u2029", "🙂", "中"]


def mixed(count: int, seed: int = 15) -> list[str]:
    """Random strings over the awkward characters: the same ones on every run."""
    rng = random.Random(seed)
    return ["".join(rng.choices(ALPHABET, k=rng.randrange(1, 40))) for _ in range(count)]


def test_postgresqls_string_escaping_is_pythons_json_encoders(db):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's downloads escape in Python")
    strings = AWKWARD + mixed(1000)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_json(s)::text FROM unnest(%s::text[]) WITH ORDINALITY AS t(s, n) ORDER BY n", [strings]
        )
        made = [row[0] for row in cursor.fetchall()]
    assert made == [json.dumps(text, ensure_ascii=False) for text in strings]


def test_json_download_writes_awkward_text_as_pythons_encoder(reader_client, application, cycle):
    """Every text leaf (and the steps' and properties' texts) holds an awkward string; the download is byte for byte
    what Python's encoder makes of the same entries (the columns' own path)."""
    for number, text in enumerate(AWKWARD + mixed(40)):
        make_entry(
            cycle, number=number, minutes_ago=number, source_id=text[:64], source_display_name=text[:256],
            upn=text[:256], target_id=text[:18], target_display_name=text[:256], error_code=text[:100],
            error_reason=text, error_recommendation=text, error_category=text[:30],
            steps=[{"name": text, "type": text, "status": text, "description": text, "details": {"Value": text}}],
            modified_properties=[{"displayName": text, "oldValue": text, "newValue": text}],
        )  # fmt: skip
    response = reader_client.get(reverse("provisioning_logs_download_json", args=[application.slug]))
    made = b"".join(response.streaming_content)

    summary = compile_shape(GRAPH_SUMMARY, LOG_COLUMNS, LogContext(application.job))
    entries = ProvisioningLogEntry.objects.filter(job=application.job).order_by("-activity_at", "-id")
    assert made.decode() == "[" + ",".join(compact_json(summary(entry)) for entry in entries) + "]"
