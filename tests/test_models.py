"""The SQL model runner: staging models are views, the others tables, whatever was there."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from funnel.config import FunnelConfig
from funnel.ingest.loader import ensure_tables
from funnel.ingest.sources import CRM
from funnel.models import Model, discover_models
from funnel.warehouse import connect, sql_params


def _kind(con: duckdb.DuckDBPyConnection, layer: str, name: str) -> str | None:
    row = con.execute(
        "select table_type from information_schema.tables"
        " where table_schema = ? and table_name = ?",
        [layer, name],
    ).fetchone()
    return row[0] if row else None


def test_staging_is_a_view_and_replaces_a_table_of_an_earlier_version(tmp_path: Path) -> None:
    cfg = FunnelConfig()
    con = connect(tmp_path / "w.duckdb", cfg)
    ensure_tables(con, CRM)
    con.execute(
        "insert into raw.crm_events (event_id, contact_id, event_type, occurred_at,"
        " occurred_at_utc, _file, _row, _ingested_at) values ('e1', 'c1', 'note', '2026-08-03',"
        " timestamp '2026-08-03', 'crm/a.csv', 1, now())"
    )
    con.execute("create table staging.stg_crm__activities as select 1 as stale")  # older layout
    model = Model("staging", "stg_crm__activities")
    run = model.run(con, sql_params(cfg))
    assert _kind(con, "staging", "stg_crm__activities") == "VIEW"
    assert run.rows == 1
    # a new raw row shows at once: the view reads raw
    con.execute(
        "insert into raw.crm_events (event_id, contact_id, event_type, occurred_at,"
        " occurred_at_utc, _file, _row, _ingested_at) values ('e2', 'c1', 'note', '2026-08-04',"
        " timestamp '2026-08-04', 'crm/a.csv', 2, now())"
    )
    assert con.execute("select count(*) from staging.stg_crm__activities").fetchone()[0] == 2


def test_other_layers_are_tables_and_replace_a_view(tmp_path: Path) -> None:
    cfg = FunnelConfig()
    con = connect(tmp_path / "w.duckdb", cfg)
    con.execute("create view intermediate.int_identity__nodes as select 1 as stale")
    con.execute(
        "create table intermediate.int_identity__observations as select 'email' as"
        " identifier_type, 'x@y.org' as identifier_value, 1 as records,"
        " timestamp '2026-08-03' as first_seen_at, timestamp '2026-08-03' as last_seen_at"
    )
    run = Model("intermediate", "int_identity__nodes").run(con, sql_params(cfg))
    assert _kind(con, "intermediate", "int_identity__nodes") == "BASE TABLE"
    assert run.rows == 1


def test_a_replaced_model_leaves_no_stale_table(tmp_path: Path) -> None:
    cfg = FunnelConfig()
    connect(tmp_path / "w.duckdb", cfg).close()
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:  # as an earlier version left it
        con.execute("create table intermediate.int_identity__event_customers as select 1 as x")
    con = connect(tmp_path / "w.duckdb", cfg)
    assert _kind(con, "intermediate", "int_identity__event_customers") is None


# Tables with a row per event: too big to copy.
EVENT_GRAIN = re.compile(
    r"raw\.\w+|staging\.\w+|intermediate\.(int_web__sessionized|int_funnels__step_events)"
    r"|marts\.(events|touchpoints)"
)
IMPORT_CTE = re.compile(r"(?:with|,)\s*(\w+) as \(\s*select \* from ([a-z]+\.\w+)\s*\)")


def _copied_event_tables(sql: str) -> list[str]:
    """Import CTEs of an event-grain table that the SELECT reads more than once."""
    sql = re.sub(r"--[^\n]*", "", sql)
    found = []
    for name, table in IMPORT_CTE.findall(sql):
        reads = len(re.findall(rf"\b(?:from|join)\s+{name}\b", sql))
        if EVENT_GRAIN.fullmatch(table) and reads > 1:
            found.append(f"{name} ({table}) read {reads} times")
    return found


def test_no_model_reads_an_event_grain_table_twice_through_a_cte() -> None:
    # DuckDB materializes a CTE read more than once: an import CTE of an event-grain table read
    # twice copies the table (the README's Development section)
    offenders = {m.table: _copied_event_tables(m.sql) for m in discover_models()}
    assert {table: found for table, found in offenders.items() if found} == {}
    # what the rule catches, and what it lets pass
    copied = "with e as (select * from marts.events) select * from e union all select * from e"
    assert _copied_event_tables(copied) == ["e (marts.events) read 2 times"]
    once = "with e as (select * from marts.events) select * from e"
    small = "with u as (select * from marts.sessions) select * from u inner join u as v using (id)"
    assert _copied_event_tables(once) == _copied_event_tables(small) == []
