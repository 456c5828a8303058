"""Publishing: the warehouse analysts read changes in one atomic step, or not at all.

A run builds everything in its private work database, and the marts in a database file of their
own beside it (`marts_database`). Only when every table is built and every blocking check has
passed does it add the run's bookkeeping (`meta`) to the marts' file, copy that file beside the
published one, make the copy durable, and rename it over the published file. Copying the file
instead of its tables spares rewriting every mart (the events are most of the warehouse). A rename
is atomic: readers see the previous complete warehouse or the new one, never a mix; a run that
fails, or is killed at any moment, leaves the published file as it was. Readers that hold the old
file open keep reading it; their next connection sees the new one.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from funnel.models import discover_models
from funnel.warehouse import MARTS_CATALOG, attach_marts, keep_order

# What analysts and dashboards read: every table of the marts' file, and from the work database
# the ingest bookkeeping behind their numbers and `meta.runs` (one row per publish).
BOOKKEEPING = ("ingested_files", "quarantine", "duplicates")
# Raw records hold personal data: they stay in the work database.
WITHHELD_COLUMNS = {"meta.quarantine": "record"}

RUNS_DDL = """
create table if not exists meta.runs (
    run_id varchar not null,
    published_at timestamp not null,
    tables integer not null,
    rows bigint not null
)
"""


@dataclass(frozen=True)
class PublishReport:
    path: Path
    tables: int
    rows: int
    seconds: float


def work_database(published: Path | str) -> Path:
    """The pipeline's private working copy: `.work/` beside the published file."""
    published = Path(published)
    return published.parent / ".work" / published.name


def marts_database(published: Path | str) -> Path:
    """The file the marts are built in, next to the work database; published by a copy."""
    work = work_database(published)
    return work.with_name(f"{work.stem}.marts{work.suffix}")


# DuckDB's words for a file whose block checksums do not match (it refuses to open it).
_CORRUPT = "Corrupt database file"


def corrupt_file_error(error: duckdb.Error, published: Path | str) -> RuntimeError | None:
    """If `error` is DuckDB finding a run's file corrupt, an error naming the file and what to do
    with it (the published file is never written in place, so it is not that one)."""
    if _CORRUPT not in str(error):
        return None
    advice = {
        work_database(published): (
            "it holds what runs loaded from the inbox and built from it: move it aside, and the"
            " next run loads every file of the inbox again and rebuilds the rest (meta.runs, the"
            " run history, then starts again)"
        ),
        marts_database(published): "every run rebuilds it: delete it and run again",
    }
    for path, fix in advice.items():
        try:
            duckdb.connect(str(path), read_only=True).close()
        except duckdb.Error as found:
            if _CORRUPT in str(found):
                return RuntimeError(
                    f"{path} is corrupt ({found}); {fix}. The published warehouse is untouched."
                )
    return None


def _temporary(published: Path, run_id: str) -> Path:
    return published.with_name(f".{published.name}.{run_id}.tmp")


def remove_stale_temporaries(published: Path) -> None:
    """Files left by runs that died between building and renaming a new warehouse."""
    for path in published.parent.glob(f".{published.name}.*.tmp*"):
        path.unlink(missing_ok=True)


def publish(con: duckdb.DuckDBPyConnection, published: Path, run_id: str) -> PublishReport:
    """Publish the marts' file of the work connection `con`, with the bookkeeping, atomically."""
    started = time.perf_counter()
    published.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(published)
    target = _temporary(published, run_id)
    (work,) = con.execute("select current_database()").fetchone()
    built = _tables(con, MARTS_CATALOG, "marts")
    missing = [m.name for m in discover_models() if m.layer == "marts" and m.name not in built]
    if missing:  # e.g. the work folder was deleted, then only this step was run
        raise RuntimeError(
            f"cannot publish: the marts' file lacks {', '.join(missing)}; run the whole job"
            " (`funnel run`) to build every mart, then publish"
        )
    marts = [f"marts.{name}" for name in built]
    meta = [f"meta.{name}" for name in _tables(con, work, "meta") if name in BOOKKEEPING]
    rows = sum(con.execute(f"select count(*) from {t}").fetchone()[0] for t in marts + meta)
    con.execute(RUNS_DDL)
    con.execute(
        "insert into meta.runs values (?, cast(now() as timestamp), ?, ?)",
        [run_id, len(marts) + len(meta), rows],
    )
    keep_order(con)  # the copies keep the checked tables' row order
    con.execute(f"create schema if not exists {MARTS_CATALOG}.meta")
    for table in [*meta, "meta.runs"]:
        columns = f"* exclude ({WITHHELD_COLUMNS[table]})" if table in WITHHELD_COLUMNS else "*"
        source = f'"{work}".{table}'
        con.execute(
            f"create or replace table {MARTS_CATALOG}.{table} as select {columns} from {source}"
        )
    (path,) = con.execute(
        "select path from duckdb_databases() where database_name = ?", [MARTS_CATALOG]
    ).fetchone()
    con.execute(f"checkpoint {MARTS_CATALOG}")
    con.execute("reset search_path")  # it names the catalog detached next
    con.execute(f"detach {MARTS_CATALOG}")  # the file is whole and closed while it is copied
    try:
        shutil.copyfile(path, target)
        _fsync(target)
    finally:
        attach_marts(con, Path(path))
    os.replace(target, published)
    _fsync(published.parent)
    return PublishReport(published, len(marts) + len(meta), rows, time.perf_counter() - started)


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    found = con.execute(
        "select table_name from duckdb_tables()"
        " where database_name = ? and schema_name = ? order by table_name",
        [catalog, schema],
    ).fetchall()
    return [name for (name,) in found]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
