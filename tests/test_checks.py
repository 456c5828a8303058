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


def _hubs(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """A valid marts.identity_hubs of `rows` rows (row i: customer i, device dev-i)."""
    con.execute("create schema if not exists marts")
    con.execute(
        """
        create or replace table marts.identity_hubs as
        select 'anonymous_id' as identifier_type, 'dev-' || i as identifier_value,
               2::bigint as customers_joined, format('cus_{:016x}', i) as customer_id,
               1::bigint as records, timestamp '2026-01-01' as first_seen_at,
               timestamp '2026-01-02' as last_seen_at
        from range($rows) t(i) order by i
        """,
        {"rows": rows},
    )


def test_a_failure_in_a_late_chunk_is_found_at_its_row(tmp_path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        _hubs(con, 100)
        con.execute("update marts.identity_hubs set records = 0 where identifier_value = 'dev-97'")
        result = validate_table(con, "marts.identity_hubs", chunk_rows=10)
    assert result.rows == 100
    assert result.failures.select("column", "check", "index").rows() == [
        ("records", "greater_than_or_equal_to(1)", 97)
    ]
    assert result.examples.select("index", "identifier_value").rows() == [(97, "dev-97")]
    assert "records: greater_than_or_equal_to(1) (1 failures)" in result.summary()


def test_a_key_repeated_in_two_chunks_is_found(tmp_path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        _hubs(con, 30)
        # row 25 takes row 2's customer and device: both keys repeat, 23 rows apart
        con.execute(
            """
            update marts.identity_hubs set identifier_value = 'dev-2',
                customer_id = format('cus_{:016x}', 2) where identifier_value = 'dev-25'
            """
        )
        result = validate_table(con, "marts.identity_hubs", chunk_rows=4)
    found = sorted(result.failures.select("column", "check", "index").rows())
    assert found == [
        ("IdentityHubs", "multiple_fields_uniqueness", 2),
        ("IdentityHubs", "multiple_fields_uniqueness", 25),
        ("customer_id", "field_uniqueness", 2),
        ("customer_id", "field_uniqueness", 25),
    ]
    assert result.examples.get_column("index").to_list() == [2, 25]
    assert result.failure_count == 4


def test_results_do_not_depend_on_the_chunk_size(tmp_path, monkeypatch) -> None:
    chunk_rows: list[int] = []
    chunks = schemas._chunks

    def spy(*args):
        for chunk in chunks(*args):
            chunk_rows.append(chunk.height)
            yield chunk

    monkeypatch.setattr(schemas, "_chunks", spy)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        _hubs(con, 1000)
        con.execute("alter table marts.identity_hubs alter records type integer")  # every chunk
        con.execute("update marts.identity_hubs set customers_joined = 1 where rowid % 7 = 3")
        con.execute("update marts.identity_hubs set customer_id = 'cus_0' where rowid = 999")
        results = {}
        for size in (1_000_000, 1000, 999, 64, 1):
            chunk_rows.clear()
            results[size] = validate_table(con, "marts.identity_hubs", chunk_rows=size)
            assert max(chunk_rows) <= size and sum(chunk_rows) == 1000
    whole = results[1_000_000]
    assert whole.rows == 1000
    assert whole.failure_count == 1 + 143 + 1  # records' type once, not once per chunk
    for result in results.values():
        assert result.failures.sort("check", "index").equals(whole.failures.sort("check", "index"))
        assert result.examples.equals(whole.examples)
        assert result.summary() == whole.summary()


def test_failure_cases_are_bounded_and_every_failure_counted(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(schemas, "MAX_FAILURE_CASES", 5)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        _hubs(con, 200)
        con.execute("update marts.identity_hubs set records = 0")
        con.execute("update marts.identity_hubs set customer_id = format('cus_{:016x}', 7)")
        result = validate_table(con, "marts.identity_hubs", chunk_rows=16)
    kept = dict(result.failures.group_by("check").len().rows())
    assert kept == {"greater_than_or_equal_to(1)": 5, "field_uniqueness": 5}
    assert result.failures.filter(pl.col("check") == "field_uniqueness").get_column(
        "index"
    ).to_list() == [0, 1, 2, 3, 4]
    assert result.failure_count == 400
    assert "(200 failures)" in result.summary()
    assert result.examples.get_column("index").to_list() == list(range(10))


def _funnel_steps(con: duckdb.DuckDBPyConnection) -> None:
    """Two funnels of three steps, stored last step first (the check sorts them itself)."""
    con.execute("create schema marts")
    con.execute(
        """
        create table marts.funnel_steps as
        select funnel, 'all' as breakdown, 'all' as breakdown_value, step::integer as step_index,
               'step ' || step as step_name, customers::bigint as customers,
               0.5::double as conversion_rate, 0.5::double as overall_conversion_rate,
               dropped::bigint as dropped, 0::bigint as in_progress,
               null::double as median_seconds_to_convert, null::double as p90_seconds_to_convert
        from (values ('a', 3, 25, 25), ('b', 3, 5, 5), ('a', 2, 50, 50), ('b', 2, 10, 10),
                     ('a', 1, 100, 0), ('b', 1, 20, 0)) t(funnel, step, customers, dropped)
        """
    )


def test_rows_compared_with_the_next_step_are_never_split_between_chunks(tmp_path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        _funnel_steps(con)
        for size in (1, 2, 4, 100):
            assert validate_table(con, "marts.funnel_steps", chunk_rows=size).passed
        con.execute("update marts.funnel_steps set customers = 60 where rowid = 0")  # a, step 3
        for size in (1, 2, 4, 100):
            result = validate_table(con, "marts.funnel_steps", chunk_rows=size)
            found = sorted(result.failures.select("check", "index").rows())
            # step 2 of funnel a (row 2) is followed by more customers, not accounted for
            assert found == [("counts_never_grow", 2), ("every_unit_accounted_for", 2)]
            assert result.examples.select("funnel", "step_index").rows() == [("a", 2)]


class _Notes(pa.DataFrameModel):
    """A schema with a column only typed (`note`) and one read by a table-level check (`kind`)."""

    id: pl.Int64 = pa.Field(ge=1)
    note: str = pa.Field(nullable=True)
    kind: str = pa.Field(nullable=True)

    class Config:
        strict = True

    @pa.dataframe_check
    def large_ids_have_a_kind(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("id") < 10) | pl.col("kind").is_not_null())


def test_chunks_carry_only_the_columns_a_check_reads(tmp_path, monkeypatch) -> None:
    read: list[list[str]] = []
    chunks = schemas._chunks

    def spy(con, table, columns, *args):
        read.append(columns)
        yield from chunks(con, table, columns, *args)

    monkeypatch.setattr(schemas, "_chunks", spy)
    monkeypatch.setitem(schemas.TABLE_SCHEMAS, "marts.notes", _Notes)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.notes as select * from (values (1::bigint, 'a', null),"
            " (12, 'b', null), (0, 'c', 'x')) as t(id, note, kind)"
        )
        result = validate_table(con, "marts.notes")
        assert read == [["id", "kind"]]  # `note` has nothing to check beyond its type
        found = sorted(result.failures.select("column", "check", "index").rows())
        assert found == [
            ("_Notes", "large_ids_have_a_kind", 1),
            ("id", "greater_than_or_equal_to(1)", 2),
        ]
        # the examples are whole rows, with the columns not read
        assert result.examples.select("index", "note").rows() == [(1, "b"), (2, "c")]

        # a column of the wrong type: reported once, and every column is read
        read.clear()
        con.execute("alter table marts.notes alter note type integer using length(note)")
        result = validate_table(con, "marts.notes", chunk_rows=1)
        assert read == [["id", "note", "kind"]]
        assert result.counts.filter(pl.col("column") == "note").get_column(
            "failures"
        ).to_list() == [1]
