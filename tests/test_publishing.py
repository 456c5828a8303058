"""The published warehouse changes in one atomic step or not at all: a run killed at any
moment leaves it byte for byte as it was, and a reader holding it open never breaks a run."""

from __future__ import annotations

import gc
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandera.polars as pa
import pytest
from conftest import Pipeline
from dagster import materialize

from funnel import schemas
from funnel.generate import generate
from funnel.publish import marts_database, work_database
from pipelines.assets.publish import published_warehouse
from pipelines.resources import WarehouseResource
from pipelines.run import failure_lines

REPO = Path(__file__).resolve().parents[1]


SAMPLE = REPO / "data" / "sample"


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample, and a small export of new files for the next run."""
    root = tmp_path_factory.mktemp("exports")
    generate(root / "second", customers=300, days=21, seed=8)
    return SAMPLE, root / "second"


def add_files(inbox: Path, new: Path) -> None:
    for source in ("web", "crm", "email"):
        for path in sorted((new / source).iterdir()):
            shutil.copy(path, inbox / source / f"new-{path.name}")


def funnel_run(inbox: Path, warehouse: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "funnel.cli", "run", "--inbox", str(inbox),
         "--warehouse", str(warehouse), "--config", str(REPO / "funnel.yaml")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip


def events_in(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select count(*) from marts.events").fetchone()[0]


def is_complete(inbox: Path, warehouse: Path) -> bool:
    files = sum(1 for p in inbox.rglob("*") if p.is_file())
    with duckdb.connect(str(warehouse), read_only=True) as con:
        published_files, loaded = con.execute(
            "select count(*), sum(rows_loaded) from meta.ingested_files"
        ).fetchone()
        events = con.execute("select count(*) from marts.events").fetchone()[0]
    return published_files == files and events == loaded


def published(tmp_path: Path, exports: Path) -> Pipeline:
    """A pipeline whose inbox holds `exports` (without the truth), run once."""
    pipeline = Pipeline(tmp_path)
    shutil.rmtree(pipeline.inbox)
    shutil.copytree(exports, pipeline.inbox, ignore=shutil.ignore_patterns("truth"))
    pipeline.run()
    return pipeline


def one_page_view(tmp_path: Path) -> Pipeline:
    """A pipeline whose inbox holds one web event."""
    pipeline = Pipeline(tmp_path)
    (pipeline.inbox / "web" / "a.jsonl").write_text(
        '{"messageId": "a", "type": "page", "anonymousId": "d",'
        ' "timestamp": "2026-08-03T09:00:00Z"}\n'
    )
    return pipeline


def test_a_killed_run_changes_nothing_and_the_next_run_succeeds(
    tmp_path: Path, exports: tuple[Path, Path]
) -> None:
    first, second = exports
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse" / "funnel.duckdb"
    shutil.copytree(first, inbox, ignore=shutil.ignore_patterns("truth"))
    started = time.perf_counter()
    assert funnel_run(inbox, warehouse).wait(timeout=300) == 0
    duration = time.perf_counter() - started
    before, events_before = warehouse.read_bytes(), events_in(warehouse)

    # kill runs with more to do at random moments from start-up to publishing: the published
    # file is the old one byte for byte, or (killed after the rename) the complete new one
    add_files(inbox, second)
    rng = random.Random(2026)
    for delay in sorted(rng.uniform(0.05, 1.3) * duration for _ in range(5)):
        process = funnel_run(inbox, warehouse)
        time.sleep(delay)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        if warehouse.read_bytes() != before:
            # the kill came after the rename (or the run finished): the new warehouse must be
            # the complete one, every new file in it
            assert is_complete(inbox, warehouse), f"killed after {delay:.2f}s: a partial publish"
            break
        assert events_in(warehouse) == events_before

    # the next run needs no clean-up and publishes everything, each row once
    run = funnel_run(inbox, warehouse)
    assert run.wait(timeout=300) == 0, run.stderr.read().decode()
    assert events_in(warehouse) > events_before
    leftovers = [p.name for p in warehouse.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    assert is_complete(inbox, warehouse)


def test_a_reader_holding_the_warehouse_never_blocks_a_run(
    tmp_path: Path, exports: tuple[Path, Path]
) -> None:
    first, second = exports
    pipeline = published(tmp_path, first)
    events_before = events_in(pipeline.warehouse)

    # an analyst's session, left open: it holds the published file read-only
    reader = subprocess.Popen(
        [sys.executable, "-c", (
            "import duckdb, sys\n"
            f"con = duckdb.connect({str(pipeline.warehouse)!r}, read_only=True)\n"
            "q = 'select count(*) from marts.events'\n"
            "print(con.execute(q).fetchone()[0], flush=True)\n"
            "sys.stdin.readline()\n"
            "print(con.execute(q).fetchone()[0], flush=True)\n"
        )],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert int(reader.stdout.readline()) == events_before

    add_files(pipeline.inbox, second)
    pipeline.run()  # succeeds while the reader holds the file

    out, _ = reader.communicate("go\n", timeout=60)
    assert int(out) == events_before  # the reader still reads the complete previous warehouse
    assert events_in(pipeline.warehouse) > events_before  # a new connection sees the new one


def test_a_failing_check_leaves_the_published_sample_unchanged(
    tmp_path: Path, exports: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = exports
    pipeline = published(tmp_path, first)
    before = pipeline.warehouse.read_bytes()

    class NoBounces(schemas.Sessions):  # a deliberately failing check: the sample has bounces
        is_bounce: bool = pa.Field(isin=[False])

    monkeypatch.setitem(schemas.TABLE_SCHEMAS, "marts.sessions", NoBounces)
    add_files(pipeline.inbox, second)
    assert not pipeline.run(expect_success=False).success
    assert pipeline.warehouse.read_bytes() == before
    assert events_in(pipeline.warehouse) > 0  # and it is still queryable


def test_a_run_that_raises_leaves_the_published_warehouse_unchanged(tmp_path: Path) -> None:
    pipeline = one_page_view(tmp_path)
    pipeline.run()
    before = pipeline.warehouse.read_bytes()
    (pipeline.inbox / "web" / "b.parquet").write_bytes(b"not parquet")  # the web step raises
    (pipeline.inbox / "crm" / "c.csv").write_text("event_id,contact_id,event_type,occurred_at\n")
    result = pipeline.run(expect_success=False)
    assert not result.success
    assert pipeline.warehouse.read_bytes() == before


def _corrupt(database: Path) -> None:
    """Overwrite every block of a DuckDB file (after its three 4 KB headers) with garbage."""
    data = bytearray(database.read_bytes())
    data[12288:] = b"\xab" * (len(data) - 12288)
    database.write_bytes(bytes(data))


@pytest.fixture
def no_garbage_collector() -> Iterator[None]:
    """Objects live until nothing refers to them: a connection the pipeline leaves open when an
    asset fails stays open into the next run (DuckDB then reuses that open database, and never
    rereads a file changed since), every time, not only when the collector happens to be late."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


@pytest.mark.usefixtures("no_garbage_collector")
def test_a_corrupt_work_file_fails_naming_it_and_the_fix_works(tmp_path: Path) -> None:
    # a run killed at a bad moment can leave one of its two files unreadable (DuckDB checks each
    # block's checksum): the next run says which and what to do, and doing it recovers
    pipeline = one_page_view(tmp_path)
    pipeline.run()
    before = pipeline.warehouse.read_bytes()
    (pipeline.inbox / "web" / "b.jsonl").write_text(
        '{"messageId": "b", "type": "page", "anonymousId": "d",'
        ' "timestamp": "2026-08-03T09:05:00Z"}\n'
    )
    work, marts = work_database(pipeline.warehouse), marts_database(pipeline.warehouse)
    for database, fix, recover in (
        (marts, "every run rebuilds it: delete it", marts.unlink),
        (work, "move it aside", lambda: work.rename(work.with_suffix(".corrupt"))),
    ):
        _corrupt(database)
        result = pipeline.run(expect_success=False)
        message = "\n".join(failure_lines(result))
        assert f"{database} is corrupt (Corrupt database file" in message
        assert fix in message
        assert pipeline.warehouse.read_bytes() == before
        recover()
        pipeline.run()  # both events, once each (the work database: rebuilt from the inbox)
        assert pipeline.scalar("select count(*) from marts.events") == 2
        assert pipeline.scalar("select count(*) from meta.ingested_files") == 2
        before = pipeline.warehouse.read_bytes()


def test_republishing_keeps_the_warehouse_compact(tmp_path: Path) -> None:
    # the marts' file is published whole: a rebuilt mart must reuse its old version's blocks,
    # not leave them free in the file (replaced in place, a quarter of the sample's file was free)
    pipeline = published(tmp_path, SAMPLE)
    pipeline.run()  # the same inbox: every mart rebuilt, the same rows
    with duckdb.connect(str(pipeline.warehouse), read_only=True) as con:
        total, free = con.execute(
            "select total_blocks, free_blocks from pragma_database_size()"
        ).fetchone()
    assert free <= 0.15 * total


def test_marts_left_in_a_work_database_by_an_earlier_version_are_dropped(tmp_path: Path) -> None:
    pipeline = one_page_view(tmp_path)
    work = work_database(pipeline.warehouse)
    work.parent.mkdir(parents=True)
    with duckdb.connect(str(work)) as con:  # marts written into the work database itself
        con.execute("create schema marts; create table marts.events as select 'stale' as x")
    pipeline.run()
    schemas_left = pipeline.query("select schema_name from duckdb_schemas()", work=True)
    assert ("marts",) in schemas_left  # the marts' file, attached
    with duckdb.connect(str(work), read_only=True) as con:
        assert con.execute(
            "select count(*) from duckdb_schemas() where schema_name = 'marts'"
        ).fetchone() == (0,)
    assert pipeline.scalar("select count(*) from marts.events") == 1


def test_publishing_without_every_mart_fails_and_names_the_missing(tmp_path: Path) -> None:
    pipeline = one_page_view(tmp_path)
    pipeline.run()
    before = pipeline.warehouse.read_bytes()
    marts_database(pipeline.warehouse).unlink()  # the marts are gone; only publishing runs
    resource = WarehouseResource(
        database=str(pipeline.warehouse), inbox=str(pipeline.inbox), config_path=None
    )
    result = materialize(
        [published_warehouse], resources={"warehouse": resource}, raise_on_error=False
    )
    assert not result.success
    assert "lacks customer_identifiers, customer_journeys" in "\n".join(failure_lines(result))
    assert pipeline.warehouse.read_bytes() == before
