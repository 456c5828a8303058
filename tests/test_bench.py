"""A small run of the benchmark harness, so that it cannot rot (no timing is asserted)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.harness import Result, report, run, run_pipeline


@pytest.mark.parametrize("file_format", ["jsonl.gz", "parquet"])
def test_the_harness_runs_and_reports(tmp_path: Path, file_format: str) -> None:
    result = run(20_000, tmp_path, pandas_max=20_000, file_format=file_format)
    assert result.pipeline_seconds > 0
    assert result.floor_seconds > 0 and result.floor_three_columns_seconds > 0
    assert 0 < result.pipeline_cores <= os.cpu_count() + 0.5  # CPU seconds per second
    assert "published__warehouse" in result.steps
    # the job's working files and the floors' databases are removed once measured (disk space)
    work = tmp_path / "work-20000"
    assert (work / "warehouse" / "funnel.duckdb").exists()
    assert not (work / "warehouse" / ".work").exists()
    assert not list(work.glob("floor*.duckdb"))
    assert result.chdb_matches is True  # our checkout funnel equals windowFunnel's
    assert result.alone_matches is True  # and so does our funnel SQL run alone on its events
    assert result.pandas_seconds is not None
    saved = json.loads((tmp_path / f"results-20000-{file_format}.json").read_text())
    assert saved["events"] == 20_000
    assert report(result).count("job / floor") == 2  # against either floor


def test_warehouse_settings_reach_the_job_and_name_the_results(tmp_path: Path) -> None:
    # 20,000 events hold about 13,000 web events: parts of 5,000 rows make sessionization 3
    settings = {"memory_limit": "1GB", "part_rows": 5000}
    result = run(20_000, tmp_path, pandas_max=0, warehouse_settings=settings)
    assert result.failure is None and result.chdb_matches is True
    assert result.parts["intermediate__int_web__sessionized"] == 3
    assert result.parts["funnel_attempts"] > 1
    saved = tmp_path / "results-20000-jsonl.gz-memory_limit=1GB-part_rows=5000.json"
    assert json.loads(saved.read_text())["warehouse"] == settings
    assert "memory_limit 1GB, part_rows 5000" in report(result)
    assert "3 parts" in report(result)


def test_a_failed_job_is_reported_with_its_steps_so_far(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "web").mkdir(parents=True)
    (inbox / "web" / "notes.txt").write_text("not an export")  # fails web ingest, by name
    result = Result(1, "jsonl.gz")
    run_pipeline(inbox, tmp_path / "warehouse" / "funnel.duckdb", result)
    assert result.failure is not None and "notes.txt" in result.failure
    assert "raw__web_events" in result.steps  # timed up to its failure
    assert "published__warehouse" not in result.steps
    result.floor_seconds = 1.0
    text = report(result)
    assert "THE JOB FAILED" in text
    assert "job / floor" not in text  # a partial time is no whole job's ratio
