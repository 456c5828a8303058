"""Models written in parts (`warehouse.part_rows`) give the same tables as in one part."""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml
from conftest import Pipeline

from funnel.publish import marts_database, work_database

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"


def _sample_run(root: Path, part_rows: int | None) -> tuple[Pipeline, dict[str, int]]:
    """The sample through the job; the parts each parted asset reported."""
    pipeline = Pipeline(root)
    pipeline.inbox = SAMPLE
    config = yaml.safe_load((REPO / "funnel.yaml").read_text())
    if part_rows is not None:
        config["warehouse"]["part_rows"] = part_rows
    pipeline.config_path = root / "funnel.yaml"
    pipeline.config_path.write_text(yaml.safe_dump(config))
    result = pipeline.run()
    parts = {
        m.asset_key.to_user_string(): m.metadata["parts"].value
        for node in (
            "intermediate__int_web__sessionized",
            "marts__events",
            "intermediate__int_funnels__step_events",
            "funnel_attempts",
        )
        for m in result.asset_materializations_for_node(node)
        if "parts" in m.metadata
    }
    return pipeline, parts


def _differences(con: duckdb.DuckDBPyConnection, a: str, b: str) -> tuple[int, int]:
    """Rows of query a missing from b, and of b missing from a (as multisets)."""
    return con.execute(
        f"select (select count(*) from ({a} except all {b})),"
        f" (select count(*) from ({b} except all {a}))"
    ).fetchone()


def test_parts_give_the_same_tables_as_one_part(tmp_path: Path) -> None:
    whole, whole_parts = _sample_run(tmp_path / "whole", None)
    parted, parts = _sample_run(tmp_path / "parted", 5000)
    # the sample's 37k web events and its funnel step events make several parts each
    assert whole_parts == {
        "intermediate/int_web__sessionized": 1,
        "marts/events": 1,
        "intermediate/int_funnels__step_events": 1,
        "intermediate/int_funnels__attempts": 1,
    }
    assert parts["intermediate/int_web__sessionized"] > 4
    assert parts["marts/events"] > 4
    assert parts["intermediate/int_funnels__step_events"] > 4
    assert parts["intermediate/int_funnels__attempts"] > 1

    con = duckdb.connect()
    for name, run in (("whole", whole), ("parted", parted)):
        con.execute(f"attach '{work_database(run.warehouse)}' as {name} (read_only)")
        con.execute(f"attach '{marts_database(run.warehouse)}' as {name}_marts (read_only)")
    tables = [
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables()"
            " where database_name in ('whole', 'whole_marts')"
            " and schema_name in ('intermediate', 'marts')"
        ).fetchall()
    ]
    assert "intermediate.int_web__sessionized" in tables and "marts.funnel_steps" in tables
    for table in tables:
        # attempts are numbered part by part: their ids are compared by what they join below
        columns = "columns(lambda c: c <> 'attempt_id')"
        whole_table, parted_table = (
            f"{run}_marts.{table}" if table.startswith("marts.") else f"{run}.{table}"
            for run in ("whole", "parted")
        )
        differences = _differences(
            con, f"select {columns} from {whole_table}", f"select {columns} from {parted_table}"
        )
        assert differences == (0, 0), table
    attempts = """
        select a.funnel, a.unit_id, a.entered_at, a.level, s.step_index, s.occurred_at,
            u.unit_id is not null as is_units_attempt
        from {db}.intermediate.int_funnels__attempts as a
        inner join {db}.intermediate.int_funnels__attempt_steps as s using (attempt_id)
        left join {db}.intermediate.int_funnels__units as u using (attempt_id)
    """
    assert _differences(con, attempts.format(db="whole"), attempts.format(db="parted")) == (0, 0)
    # every attempt keeps an id of its own
    ids = "select count(*), count(distinct attempt_id) from {db}.intermediate.int_funnels__attempts"
    counts = con.execute(ids.format(db="whole")).fetchone()
    assert counts[0] == counts[1]
    assert con.execute(ids.format(db="parted")).fetchone() == counts
