"""Property-based tests of the parsers (Hypothesis): timestamps, durations, conditions, and
ingest of arbitrary JSON lines and CSV fields."""

from __future__ import annotations

import contextlib
import csv
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.config import FunnelConfig
from funnel.durations import parse_duration
from funnel.ingest import SOURCES, ingest_source
from funnel.journeys import parse_condition
from funnel.warehouse import connect, sql_params

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
instants = st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    with connect(tmp_path_factory.mktemp("prop") / "w.duckdb", FunnelConfig()) as connection:
        yield connection


@SETTINGS
@given(instant=instants, offset=offsets)
def test_iso_timestamps_with_any_offset_become_the_same_utc_instant(con, instant, offset) -> None:
    utc = instant.replace(tzinfo=UTC)
    text = utc.astimezone(offset).isoformat(timespec="milliseconds")
    (parsed,) = con.execute("select parse_timestamp(?)", [text]).fetchone()
    assert parsed == instant


@SETTINGS
@given(instant=instants)
def test_epoch_seconds_and_milliseconds(con, instant) -> None:
    since_epoch = instant - datetime(1970, 1, 1)
    seconds = str(since_epoch // timedelta(seconds=1))
    millis = str(since_epoch // timedelta(milliseconds=1))
    (from_seconds, from_millis) = con.execute(
        "select parse_timestamp(?), parse_timestamp(?)", [seconds, millis]
    ).fetchone()
    assert from_seconds == instant.replace(microsecond=0)
    assert from_millis == instant


@SETTINGS
@given(text=st.text(max_size=30))
def test_any_text_parses_to_a_timestamp_or_null_never_an_error(con, text) -> None:
    con.execute("select parse_timestamp(?)", [text]).fetchone()


@given(value=st.one_of(st.text(max_size=12), st.integers(), st.booleans(), st.none()))
def test_durations_are_positive_seconds_or_a_value_error(value) -> None:
    with contextlib.suppress(ValueError):
        assert parse_duration(value) > 0


@given(text=st.text(max_size=40))
def test_conditions_parse_or_raise_a_value_error(text) -> None:
    with contextlib.suppress(ValueError):
        parse_condition(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
segment_like = st.fixed_dictionaries(
    {},
    optional={
        "messageId": st.text(max_size=6) | st.integers(),
        "type": st.sampled_from(["page", "track", "identify", "alias", ""]),
        "event": st.text(max_size=6),
        "anonymousId": st.text(max_size=6) | st.none(),
        "userId": st.text(max_size=6) | st.none(),
        "timestamp": st.sampled_from(["2026-08-03T09:00:00Z", "soon", "", "1785747600"]),
        "properties": json_values,
    },
)
# a carriage return inside a line fails the whole file (test_ingest covers it), so none here
lines = st.lists(
    st.one_of(
        segment_like.map(json.dumps),
        st.text(max_size=30).filter(lambda t: "\n" not in t and "\r" not in t),
    ),
    max_size=12,
)


@SETTINGS
@given(rows=lines)
def test_any_json_lines_are_loaded_or_quarantined(tmp_path: Path, rows) -> None:
    root = tmp_path / uuid.uuid4().hex
    path = root / "inbox" / "web" / "fuzz.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with connect(root / "w.duckdb", FunnelConfig()) as con:
        r = ingest_source(con, SOURCES["web"], root / "inbox", sql_params(FunnelConfig())).rows
    # blank lines (spaces, tabs, NUL bytes only) are not rows; every other line is one
    assert sum(1 for line in rows if line.strip(" \t\x00")) <= r.read
    assert r.read <= sum(1 for line in rows if line)
    assert r.read == r.loaded + r.quarantined + r.duplicate


field_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\r"),
    min_size=1,
    max_size=20,
)


@SETTINGS
@given(stages=st.lists(field_text, min_size=1, max_size=6))
def test_csv_fields_round_trip(con, tmp_path: Path, stages) -> None:
    inbox = tmp_path / uuid.uuid4().hex
    path = inbox / "crm" / "fuzz.csv"
    path.parent.mkdir(parents=True)
    batch = uuid.uuid4().hex
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["event_id", "contact_id", "event_type", "occurred_at", "stage"])
        for i, stage in enumerate(stages):
            writer.writerow([f"{batch}-{i}", "c1", "note", "2026-08-03T09:00:00Z", stage])
    report = ingest_source(con, SOURCES["crm"], inbox, sql_params(FunnelConfig()))
    assert report.rows.loaded == len(stages)
    loaded = con.execute(
        "select stage from raw.crm_events where event_id like ? order by _row", [f"{batch}-%"]
    ).fetchall()
    assert [s for (s,) in loaded] == stages
