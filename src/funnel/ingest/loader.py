"""Load new export files of one source into its raw table, exactly once.

Per file, in one transaction: read it (`readers`), validate every row (`sql/ingest/<source>.sql`),
then split the rows three ways: usable rows into `raw.<source>_events`, unusable ones into
`meta.quarantine` (file, row, reason, the record as received), and repeats of an event id already
loaded into `meta.duplicates`. `meta.ingested_files` records the file's content hash and counts,
so the same content is never loaded twice, under any name; for every file
rows_read = rows_loaded + rows_quarantined + rows_duplicate.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from funnel.ingest.readers import FileError, file_format, read_into_incoming
from funnel.ingest.sources import EXTENSIONS, Source
from funnel.warehouse import execute, read_sql

META_DDL = """
create table if not exists meta.ingested_files (
    source varchar not null,
    file varchar not null,            -- path relative to the inbox
    content_hash varchar not null,    -- sha256 of the file's bytes
    size_bytes bigint not null,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    rows_duplicate bigint not null,
    ingested_at timestamp not null,
    run_id varchar not null           -- the run that read it (Dagster's run id)
);
create table if not exists meta.quarantine (
    source varchar not null,
    file varchar not null,
    "row" bigint not null,            -- 1-based row (line of a .jsonl file, record of a CSV)
    reason varchar not null,
    record varchar,                   -- the row as received (JSON text, or the CSV line)
    ingested_at timestamp not null,
    run_id varchar not null           -- the run that read it (Dagster's run id)
);
create table if not exists meta.duplicates (
    source varchar not null,
    file varchar not null,
    "row" bigint not null,
    event_id varchar not null,        -- the id already loaded from an earlier row or file
    ingested_at timestamp not null,
    run_id varchar not null           -- the run that read it (Dagster's run id)
);
"""


@dataclass
class RowCounts:
    """What happened to the rows of a file: read = loaded + quarantined + duplicate."""

    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    duplicate: int = 0

    def add(self, other: RowCounts) -> None:
        self.read += other.read
        self.loaded += other.loaded
        self.quarantined += other.quarantined
        self.duplicate += other.duplicate


@dataclass
class IngestReport:
    source: str
    files_loaded: list[str] = field(default_factory=list)
    files_skipped: list[str] = field(default_factory=list)  # content already ingested
    rows: RowCounts = field(default_factory=RowCounts)
    seconds: float = 0.0


def discover(folder: Path) -> list[Path]:
    """Export files under a source folder, in name order; hidden files are ignored."""
    if not folder.is_dir():
        return []
    files = []
    root = folder.resolve()
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            raise FileError(
                f"{path}: links to {path.resolve()}, outside the inbox; only files under the "
                "inbox are read (copy the file into the inbox instead)"
            )
        if not path.name.lower().endswith(EXTENSIONS):
            raise FileError(
                f"{path}: unsupported file type in the inbox (accepted: {', '.join(EXTENSIONS)}); "
                "move it out of the inbox or rename it"
            )
        files.append(path)
    return files


def content_hash(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def ensure_tables(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    con.execute(META_DDL)
    columns = ", ".join(f"{c} varchar" for c in source.columns)
    con.execute(
        f"create table if not exists {source.table} ({columns}, occurred_at_utc timestamp not null,"
        " _file varchar not null, _row bigint not null, _ingested_at timestamp not null)"
    )


def ingest_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    inbox: Path,
    params: dict[str, Any],
    run_id: str = "manual",
) -> IngestReport:
    """Load the source's new files under `inbox`; `params` are the SQL settings (bounds),
    `run_id` marks every meta row this run writes."""
    started = time.perf_counter()
    ensure_tables(con, source)
    report = IngestReport(source.name)
    known = {
        row[0]
        for row in con.execute(
            "select content_hash from meta.ingested_files where source = ?", [source.name]
        ).fetchall()
    }
    for path in discover(inbox / source.name):
        rel = path.relative_to(inbox).as_posix()
        digest = content_hash(path)
        if digest in known:
            report.files_skipped.append(rel)
            continue
        report.rows.add(_load_file(con, source, path, rel, digest, params, run_id))
        known.add(digest)
        report.files_loaded.append(rel)
    report.seconds = time.perf_counter() - started
    return report


def _load_file(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    path: Path,
    rel: str,
    digest: str,
    params: dict[str, Any],
    run_id: str,
) -> RowCounts:
    """Load one file in one transaction: all of its rows are accounted for, or none."""
    file_format(path)  # fails fast on an unsupported name
    con.execute("begin transaction")
    try:
        now = con.execute("select cast(now() as timestamp)").fetchone()[0]
        stamp = [now, run_id]
        size = path.stat().st_size
        counts = RowCounts()
        if size > 0:  # an empty file is recorded, with no rows
            read_into_incoming(con, source, path)
            validation = read_sql(f"ingest/{source.name}.sql")
            execute(con, f"create or replace temp table checked as\n{validation}", params)
            counts = _split(con, source, rel, stamp)
            (rejected,) = con.execute(
                "insert into meta.quarantine select ?, ?, _row, reason, record, ?, ?"
                " from incoming_rejected",
                [source.name, rel, *stamp],
            ).fetchone()
            counts.add(RowCounts(read=rejected, quarantined=rejected))
        con.execute(
            "insert into meta.ingested_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [source.name, rel, digest, size, counts.read, counts.loaded, counts.quarantined,
             counts.duplicate, *stamp],
        ).fetchall()  # fmt: skip
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return counts


def _split(con: duckdb.DuckDBPyConnection, source: Source, rel: str, stamp: list[Any]) -> RowCounts:
    """Route the validated rows of `checked` to the raw table, quarantine and duplicates."""
    id_col = source.columns[0]
    con.execute(
        "insert into meta.quarantine "
        "select ?, ?, _row, _reason, _record, ?, ? from checked where _reason is not null",
        [source.name, rel, *stamp],
    ).fetchall()
    # The first copy of an event id wins: earlier files (loaded before), then the earlier row.
    con.execute(
        f"""
        create or replace temp table ranked as
        select *,
            row_number() over (partition by trim({id_col}) order by _row) > 1
            or exists (select 1 from {source.table} as r where trim(r.{id_col}) = trim(c.{id_col}))
            as _is_duplicate
        from checked as c
        where _reason is null
        """
    ).fetchall()
    con.execute(
        "insert into meta.duplicates "
        f"select ?, ?, _row, trim({id_col}), ?, ? from ranked where _is_duplicate",
        [source.name, rel, *stamp],
    ).fetchall()
    columns = ", ".join(source.columns)
    con.execute(
        f"insert into {source.table} "
        f"select {columns}, occurred_at_utc, ?, _row, ? from ranked where not _is_duplicate",
        [rel, stamp[0]],
    ).fetchall()
    read, quarantined, duplicate = con.execute(
        "select count(*), count(_reason), "
        "(select count(*) from ranked where _is_duplicate) from checked"
    ).fetchone()
    return RowCounts(read, read - quarantined - duplicate, quarantined, duplicate)
