"""Publishing: the warehouse analysts read changes in one atomic step, or not at all.

A run builds everything in its private work database. Only when every table is built and every
blocking check has passed does it copy the marts (and the run's bookkeeping in `meta`) into a new
file beside the published one, make it durable, and rename it over the published file. A rename
is atomic: readers see the previous complete warehouse or the new one, never a mix; a run that
fails, or is killed at any moment, leaves the published file as it was. Readers that hold the old
file open keep reading it; their next connection sees the new one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from funnel.warehouse import keep_order

# What analysts and dashboards read: the marts, and the ingest bookkeeping behind their numbers.
PUBLISHED = {
    "marts": None,  # every table
    "meta": ("ingested_files", "quarantine", "duplicates", "runs"),
}
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


def _temporary(published: Path, run_id: str) -> Path:
    return published.with_name(f".{published.name}.{run_id}.tmp")


def remove_stale_temporaries(published: Path) -> None:
    """Files left by runs that died between building and renaming a new warehouse."""
    for path in published.parent.glob(f".{published.name}.*.tmp*"):
        path.unlink(missing_ok=True)


def publish(con: duckdb.DuckDBPyConnection, published: Path, run_id: str) -> PublishReport:
    """Copy the published schemas from the work database `con` into `published`, atomically."""
    started = time.perf_counter()
    published.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(published)
    target = _temporary(published, run_id)
    tables = _published_tables(con)
    rows = sum(con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables)
    con.execute(RUNS_DDL)
    con.execute(
        "insert into meta.runs values (?, cast(now() as timestamp), ?, ?)",
        [run_id, len(tables), rows],
    )
    keep_order(con)  # the copies keep the checked tables' row order (no slower, measured)
    con.execute("attach ? as target", [str(target)])
    try:
        for schema in PUBLISHED:
            con.execute(f"create schema target.{schema}")
        for table in [*tables, "meta.runs"]:
            columns = f"* exclude ({WITHHELD_COLUMNS[table]})" if table in WITHHELD_COLUMNS else "*"
            con.execute(f"create table target.{table} as select {columns} from {table}")
    finally:
        con.execute("detach target")
    _fsync(target)
    os.replace(target, published)
    _fsync(published.parent)
    return PublishReport(published, len(tables), rows, time.perf_counter() - started)


def _published_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    found = con.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_catalog = current_database() and table_type = 'BASE TABLE'"
        " order by table_schema, table_name"
    ).fetchall()
    return [
        f"{schema}.{name}"
        for schema, name in found
        if schema in PUBLISHED
        and (PUBLISHED[schema] is None or name in PUBLISHED[schema])
        and (schema, name) != ("meta", "runs")
    ]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
