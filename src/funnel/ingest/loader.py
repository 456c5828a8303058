"""Load new export files of one source into its raw table, exactly once.

New files load in batches (at most `ingest.batch_megabytes` on disk each), one transaction per
batch: read them (`readers`), validate every row (`sql/ingest/<source>.sql`), then split the rows
three ways: usable rows into `raw.<source>_events` (with `_id_key`, their id's key), unusable
ones into `meta.quarantine` (file, row, reason, the record as received), and repeats of an event
id already loaded into `meta.duplicates`. `meta.ingested_files` records the file's content hash
and counts, so the same content is never loaded twice, under any name; for every file
rows_read = rows_loaded + rows_quarantined + rows_duplicate.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from funnel.ingest.readers import FileError, end_batches, read_files, start_batch
from funnel.ingest.sources import EXTENSIONS, Source
from funnel.warehouse import execute, keep_order, read_sql, transaction

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
    # `_id_key`: the 128-bit MD5 of the trimmed event id, the key the duplicate check looks up
    # (see `_split`). Raw tables written before it existed get the column, and any row without
    # a key (written there by hand) gets its key.
    con.execute(
        f"create table if not exists {source.table} ({columns}, occurred_at_utc timestamp not null,"
        " _file varchar not null, _row bigint not null, _ingested_at timestamp not null,"
        " _id_key uhugeint)"
    )
    con.execute(f"alter table {source.table} add column if not exists _id_key uhugeint")
    con.execute(f"update {source.table} set _id_key = {id_key(source)} where _id_key is null")


def id_key(source: Source) -> str:
    """The SQL of a row's `_id_key`: the 128-bit MD5 of its trimmed event id."""
    return f"md5_number(trim({source.columns[0]}))"


@dataclass(frozen=True)
class NewFile:
    path: Path
    rel: str  # path relative to the inbox: the lineage name
    digest: str
    size: int


def ingest_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    inbox: Path,
    params: dict[str, Any],
    run_id: str = "manual",
    batch_bytes: int = 64 * 2**20,
) -> IngestReport:
    """Load the source's new files under `inbox`; `params` are the SQL settings (bounds),
    `run_id` marks every meta row this run writes. New files load in batches of at most
    `batch_bytes` on disk (at least one file each), one transaction per batch."""
    started = time.perf_counter()
    keep_order(con)  # lines are numbered as they are read
    ensure_tables(con, source)
    report = IngestReport(source.name)
    known = {
        row[0]
        for row in con.execute(
            "select content_hash from meta.ingested_files where source = ?", [source.name]
        ).fetchall()
    }
    new: list[NewFile] = []
    for path in discover(inbox / source.name):
        rel = path.relative_to(inbox).as_posix()
        digest = content_hash(path)
        if digest in known:
            report.files_skipped.append(rel)
            continue
        known.add(digest)
        new.append(NewFile(path, rel, digest, path.stat().st_size))
    try:
        for batch in batches(new, batch_bytes):
            report.rows.add(_load_batch(con, source, batch, params, run_id))
            report.files_loaded.extend(f.rel for f in batch)
    finally:
        end_batches(con)
    report.seconds = time.perf_counter() - started
    return report


def batches(files: list[NewFile], limit: int) -> list[list[NewFile]]:
    """Consecutive groups of files of at most `limit` bytes together (a larger file: alone)."""
    groups: list[list[NewFile]] = []
    size = 0
    for f in files:
        if not groups or size + f.size > limit:
            groups.append([])
            size = 0
        groups[-1].append(f)
        size += f.size
    return groups


def _load_batch(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    files: list[NewFile],
    params: dict[str, Any],
    run_id: str,
) -> RowCounts:
    """Load a batch of files in one transaction: all of their rows are accounted for, or none.
    (The files are read before it, into scratch tables: see `read_files`.)"""
    start_batch(con, source)
    # an empty file is recorded, with no rows
    read_files(con, source, [(f.path, f.rel) for f in files if f.size > 0])
    with transaction(con):
        now = con.execute("select cast(now() as timestamp)").fetchone()[0]
        stamp = [now, run_id]
        validation = read_sql(f"ingest/{source.name}.sql")
        execute(
            con,
            f"create or replace temp table checked as\n"
            f"select *, {id_key(source)} as _id_key from (\n{validation}\n)",
            params,
        )
        return _split(con, source, files, stamp)


def _split(
    con: duckdb.DuckDBPyConnection, source: Source, files: list[NewFile], stamp: list[Any]
) -> RowCounts:
    """Route the validated rows of `checked` to the raw table, quarantine and duplicates, and
    record each file with its counts."""
    id_col = source.columns[0]
    values = ", ".join("(?, ?, ?, ?)" for _ in files)
    con.execute(
        f"create or replace temp table batch_files as select * from (values {values})"
        " as t(seq, file, content_hash, size_bytes)",
        [v for i, f in enumerate(files) for v in (i, f.rel, f.digest, f.size)],
    )
    con.execute(
        "insert into meta.quarantine select ?, c._file, c._row, c._reason, r._record, ?, ?"
        " from checked as c inner join incoming_records as r using (_file, _row)"
        " where c._reason is not null"
        " union all select ?, _file, _row, reason, record, ?, ? from batch.rejected",
        [source.name, *stamp, source.name, *stamp],
    )
    # The first copy of an event id wins: earlier batches (loaded before), then the earlier file
    # of this batch, then the earlier row. Rows are matched by their id's key (`_id_key`, the
    # MD5 of the trimmed id, 16 bytes), not the id's text: every batch reads the whole stored
    # column, and with 68M stored ids the keys took 0.32 s a batch against 2.8 s for the ids as
    # text. The ids loaded before are found by an inner join, so that its hash table holds the
    # batch's ids, not the whole raw table's. Only the rows of a repeated id are ranked: ranking
    # every row took twice as long (1.8M rows: 0.34 s against 0.78 s). (Two different ids share
    # an MD5 by chance with a probability of about 1e-23 among 100M ids; ids crafted to collide
    # are not guarded against.)
    con.execute(
        f"""
        create or replace temp table batch_duplicates as
        with usable as (
            select _file, _row, _id_key, {id_col} as event_id from checked where _reason is null
        ),
        loaded_before as (
            select distinct u._id_key
            from usable as u
            inner join {source.table} as r on r._id_key = u._id_key
        ),
        repeated as (
            select _id_key from usable group by _id_key having count(*) > 1
            union
            select _id_key from loaded_before
        ),
        copies as (
            select u._file, u._row, u._id_key, trim(u.event_id) as event_id,
                row_number() over (partition by u._id_key order by f.seq, u._row) as copy
            from usable as u
            inner join batch_files as f on f.file = u._file
            where u._id_key in (select _id_key from repeated)
        )
        select _file, _row, event_id from copies
        where copy > 1 or _id_key in (select _id_key from loaded_before)
        """
    )
    con.execute(
        "insert into meta.duplicates select ?, _file, _row, event_id, ?, ? from batch_duplicates",
        [source.name, *stamp],
    )
    columns = ", ".join(f"c.{c}" for c in source.columns)
    con.execute(
        f"insert into {source.table} "
        f"select {columns}, c.occurred_at_utc, c._file, c._row, ?, c._id_key from checked as c"
        " where c._reason is null and not exists ("
        "   select 1 from batch_duplicates as d where d._file = c._file and d._row = c._row)",
        [stamp[0]],
    )
    con.execute(
        """
        create or replace temp table file_counts as
        with checked_rows as (
            select _file, count(*) as rows_read, count(_reason) as rows_quarantined
            from checked group by _file
        ),
        rejected_rows as (select _file, count(*) as n from batch.rejected group by _file),
        duplicate_rows as (select _file, count(*) as n from batch_duplicates group by _file)
        select
            f.seq, f.file, f.content_hash, f.size_bytes,
            coalesce(c.rows_read, 0) + coalesce(r.n, 0) as rows_read,
            coalesce(c.rows_quarantined, 0) + coalesce(r.n, 0) as rows_quarantined,
            coalesce(d.n, 0) as rows_duplicate
        from batch_files as f
        left join checked_rows as c on c._file = f.file
        left join rejected_rows as r on r._file = f.file
        left join duplicate_rows as d on d._file = f.file
        """
    )
    con.execute(
        "insert into meta.ingested_files select ?, file, content_hash, size_bytes, rows_read,"
        " rows_read - rows_quarantined - rows_duplicate, rows_quarantined, rows_duplicate, ?, ?"
        " from file_counts order by seq",
        [source.name, *stamp],
    )
    read, quarantined, duplicate = con.execute(
        "select coalesce(sum(rows_read), 0), coalesce(sum(rows_quarantined), 0),"
        " coalesce(sum(rows_duplicate), 0) from file_counts"
    ).fetchone()
    return RowCounts(read, read - quarantined - duplicate, quarantined, duplicate)
