"""Pandera checks: failures name the table, column and rows, and block what comes after."""

from __future__ import annotations

import duckdb
import pandera.polars as pa
import polars as pl
import pytest
from conftest import Pipeline, web, write_jsonl
from dagster import DagsterEventType

from funnel import schemas
from funnel.schemas import validate_table


def test_failures_name_the_column_check_and_rows(tmp_path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema marts")
        con.execute(
            """
            create table marts.identity_hubs as
            select * from (values
                ('anonymous_id', 'dev-1', 3::bigint, 'cus_0123456789abcdef', 5::bigint,
                 timestamp '2026-01-01', timestamp '2026-01-02'),
                ('device', 'dev-2', 1::bigint, 'not-a-customer-id', 1::bigint,
                 timestamp '2026-01-01', timestamp '2026-01-02')
            ) as t(identifier_type, identifier_value, customers_joined, customer_id, records,
                   first_seen_at, last_seen_at)
            """
        )
        result = validate_table(con, "marts.identity_hubs")
    assert not result.passed
    failed = set(result.failures.select("column", "check").iter_rows())
    assert {c for c, _ in failed} == {"identifier_type", "customers_joined", "customer_id"}
    assert result.examples.get_column("identifier_value").to_list() == ["dev-2"]
    assert "marts.identity_hubs" in result.summary() and "customer_id" in result.summary()


def test_a_failing_check_blocks_downstream_assets_and_publishing(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = Pipeline(tmp_path)
    write_jsonl(pipeline.inbox / "web" / "e.jsonl", [web("a", 0, "d")])
    pipeline.run()
    published = pipeline.warehouse.read_bytes()

    class StrictSessions(schemas.Sessions):
        events: pl.Int64 = pa.Field(ge=100)  # no session here has 100 events

    monkeypatch.setitem(schemas.TABLE_SCHEMAS, "marts.sessions", StrictSessions)
    write_jsonl(pipeline.inbox / "web" / "f.jsonl", [web("b", 60, "d")])
    result = pipeline.run(expect_success=False)
    assert not result.success
    evaluations = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    failed = [e for e in evaluations if not e.passed]
    assert [e.asset_key.to_user_string() for e in failed] == ["marts/sessions"]
    assert "events" in failed[0].description
    built = {
        e.event_specific_data.materialization.asset_key.to_user_string()
        for e in result.all_events
        if e.event_type == DagsterEventType.ASSET_MATERIALIZATION
    }
    # marts.customers reads marts.sessions: not built; nothing was published
    assert "marts/sessions" in built
    assert "marts/customers" not in built and "published/warehouse" not in built
    assert pipeline.warehouse.read_bytes() == published
