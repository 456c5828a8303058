"""The inbox sensor: a run when files land or change, nothing otherwise."""

from __future__ import annotations

from pathlib import Path

from conftest import web, write_jsonl
from dagster import DagsterInstance, RunRequest, SkipReason, build_sensor_context

from funnel.config import FunnelConfig
from pipelines.resources import WarehouseResource
from pipelines.sensors import inbox_sensor


def evaluate(inbox: Path, cursor: str | None, instance: DagsterInstance):
    sensor = inbox_sensor(FunnelConfig())
    context = build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"warehouse": WarehouseResource(inbox=str(inbox), database="unused.duckdb")},
    )
    result = sensor(context)
    return result, context.cursor


def test_runs_when_files_land_and_skips_otherwise(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_jsonl(inbox / "web" / "a.jsonl", [web("a", 0, "d")])
    with DagsterInstance.ephemeral() as instance:
        first, cursor = evaluate(inbox, None, instance)
        assert isinstance(first, RunRequest)
        same, _ = evaluate(inbox, cursor, instance)
        assert isinstance(same, SkipReason)
        write_jsonl(inbox / "crm" / "b.jsonl", [{"event_id": "x"}])
        landed, new_cursor = evaluate(inbox, cursor, instance)
        assert isinstance(landed, RunRequest) and new_cursor != cursor
    # the sensor never opened (or created) the warehouse
    assert not Path("unused.duckdb").exists()
