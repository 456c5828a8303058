"""Read export files into the view `incoming`: one text column per field, plus lineage.

A batch of files is read into the same tables (`start_batch`, then `read_files`) of the
in-memory database `batch`, which every connection to the work database shares: one thread reads
a file (a compressed file cannot be split, and lines are numbered in read order), so the batch's
files are read side by side, one connection per thread.
`incoming` has `_file` (path relative to the inbox), `_row` (1-based row of the file: the line of
a `.jsonl` file, the record of a CSV or Parquet file), `_error` (set when the row cannot even be
parsed) and one VARCHAR column per field of the source. `incoming_records` has each row as
received (`_record`: JSON text, so a quarantined row keeps everything); `batch.rejected` holds
the lines a reader could not even split (`_file`, `_row`, `reason`, `record`).

DuckDB does the reading; values stay in the database and file paths, column names and JSON keys
are bound as parameters or quoted as identifiers, never pasted into SQL as text. JSON lines are
split per file (cheap, and it keeps their line numbers) and parsed where the batch is read, in
parallel and without a stored copy.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb

from funnel.ingest.sources import Source

# A delimiter that does not occur in text, so that a line is one column.
_NO_DELIMITER = "\x00"
# DuckDB buffers 16 lines of this size per file read: 16 MB lines keep that buffer at 256 MB.
# (Segment caps an event at 32 KB.)
_MAX_LINE_BYTES = 16 * 1024 * 1024
_READ_BUFFER_BYTES = 16 * _MAX_LINE_BYTES
# Files read side by side hold at most this share of DuckDB's memory limit in read buffers
# (beyond it, the reads ran out of memory instead of taking turns).
_READ_BUFFERS_SHARE = 4
_BYTES = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}
# DuckDB's reject tables of the last read (dropped before each read: they accumulate otherwise)
_REJECTS = "drop table if exists incoming_rejects; drop table if exists incoming_reject_scans"
_STORE_REJECTS = (
    "store_rejects = true, rejects_table = 'incoming_rejects', "
    f"rejects_scan = 'incoming_reject_scans', max_line_size = {_MAX_LINE_BYTES}, "
    "compression = 'auto'"
)


class FileError(ValueError):
    """A file that cannot be ingested at all; the message names the file and the problem."""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def file_format(path: Path) -> str:
    name = path.name.lower()
    for suffix, fmt in ((".jsonl", "jsonl"), (".jsonl.gz", "jsonl"), (".csv", "csv"),
                        (".csv.gz", "csv"), (".parquet", "parquet")):  # fmt: skip
        if name.endswith(suffix):
            return fmt
    raise FileError(
        f"{path}: unsupported file type (accepted: .jsonl, .jsonl.gz, .csv, .csv.gz, .parquet)"
    )


def start_batch(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """Empty the batch: `batch.flat` (rows of CSV and Parquet files), `batch.lines` (lines of
    JSON lines files, parsed by the view `incoming`) and `batch.rejected`."""
    columns = ", ".join(f"{c} varchar" for c in source.columns)
    con.execute("attach if not exists ':memory:' as batch")
    con.execute(
        f"""
        create or replace table batch.flat (
            _file varchar, _row bigint, _error varchar, _record varchar, {columns});
        create or replace table batch.lines (_file varchar, _row bigint, line varchar);
        create or replace table batch.rejected (
            _file varchar, _row bigint, reason varchar, record varchar);
        """
    )
    # JSON lines are parsed where the batch is read, once: json_transform takes every field
    # (text) and object (JSON) into a struct. (A view takes no parameters: the shape is the
    # source's own constant, quoted as a literal.)
    fields = "".join(
        f", cast(doc_fields.{_struct_path(f)} as varchar) as {c}"
        for f, c in zip((*source.fields, *source.objects), source.columns, strict=True)
    )
    flat = ", ".join(source.columns)
    con.execute(
        f"""
        create or replace temp view incoming as
        select _file, _row, _error, {flat} from batch.flat
        union all
        select _file, _row, _error{fields}
        from (
            select *, json_transform(doc, {_shape(source)}) as doc_fields
            from (select *, case when _error is null then line end as doc from (
                select
                    _file,
                    _row,
                    line,
                    case
                        when not json_valid(line) then 'invalid JSON'
                        -- a valid JSON text that starts with a brace is an object
                        when not regexp_matches(line, '^[ \t]*[{{]') then 'not a JSON object'
                    end as _error
                from batch.lines
                -- blank lines (spaces, tabs, CRs; NUL bytes read as nothing) are no rows.
                -- (A regular expression: trim() walks the whole line, 50 times slower.)
                where line is not null and not regexp_full_match(line, '[ \t\r]*')
            ))
        )
        """
    )
    con.execute(
        """
        create or replace temp view incoming_records as
        select _file, _row, _record from batch.flat
        union all
        select _file, _row, line from batch.lines
        """
    )


def end_batches(con: duckdb.DuckDBPyConnection) -> None:
    """Free the last batch's memory."""
    con.execute("detach database if exists batch")


def _shape(source: Source) -> str:
    """The source's JSON structure as a SQL literal for json_transform: each field a (nested)
    VARCHAR, each object JSON."""
    shape: dict[str, Any] = {}
    for field, kind in [
        *((f, "VARCHAR") for f in source.fields),
        *((o, "JSON") for o in source.objects),
    ]:
        *parents, leaf = field.split(".")
        node = shape
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = kind
    return "'" + json.dumps(shape).replace("'", "''") + "'"


def _struct_path(field: str) -> str:
    """The struct access for a dotted field: context.page.url -> "context"."page"."url"."""
    return ".".join(quote_ident(key) for key in field.split("."))


def read_files(
    con: duckdb.DuckDBPyConnection, source: Source, files: list[tuple[Path, str]]
) -> None:
    """Append the rows of `files` (each a path and its name in the lineage columns) to the batch,
    side by side on as many connections as DuckDB has threads and the memory limit allows (see
    `readers`). The rows are committed as they are read: the batch tables are scratch, emptied
    by the next `start_batch`."""

    def read(file: tuple[Path, str]) -> None:
        with con.cursor() as cur:
            read_file(cur, source, *file)

    with ThreadPoolExecutor(max(1, min(readers(con), len(files)))) as pool:
        for _ in pool.map(read, files):  # raises the first file's error, naming the file
            pass


def readers(con: duckdb.DuckDBPyConnection) -> int:
    """How many files may be read side by side: one per thread, while their read buffers stay
    within a share of the memory limit (at least one)."""
    threads, limit = con.execute(
        "select current_setting('threads'), current_setting('memory_limit')"
    ).fetchone()
    amount, unit = limit.split()  # as DuckDB shows it, e.g. '4.6 GiB'
    budget = float(amount) * _BYTES[unit] / _READ_BUFFERS_SHARE
    return max(1, min(int(threads), int(budget // _READ_BUFFER_BYTES)))


def read_file(con: duckdb.DuckDBPyConnection, source: Source, path: Path, rel: str) -> None:
    """Append the rows of one file (named `rel` in the lineage columns) to the batch."""
    fmt = file_format(path)
    con.execute(_REJECTS)
    if fmt == "jsonl":
        _read_lines(con, path, rel)
    elif fmt == "csv":
        relation = (
            "read_csv(?, header = true, all_varchar = true, delim = ',', quote = '\"', "
            f"escape = '\"', {_STORE_REJECTS})"
        )
        _read_flat(con, source, relation, path, rel)
        # a rejected line's `row` is its line number (the parser could not make a record of it)
        con.execute(
            """
            insert into batch.rejected
            select ?, line, 'CSV ' || lower(min(error_type)) || ': ' || min(error_message),
                   min(csv_line)
            from incoming_rejects group by line
            """,
            [rel],
        )
    else:
        _read_flat(con, source, "read_parquet(?)", path, rel)


def _read_lines(con: duckdb.DuckDBPyConnection, path: Path, rel: str) -> None:
    # The lines, split by DuckDB's CSV reader with a delimiter no text line holds. A line that
    # holds it anyway (a NUL byte), or is longer than the reader takes, is rejected with its line
    # number.
    sql = f"""
        insert into batch.lines
        select ?, row_number() over (), line
        from read_csv(?, columns = {{'line': 'VARCHAR'}}, header = false, delim = ?,
                      quote = '', escape = '', auto_detect = false, {_STORE_REJECTS})
    """
    _run(con, sql, [rel, str(path), _NO_DELIMITER], path, "JSON lines")
    (rejected,) = con.execute(
        """
        insert into batch.rejected
        select ?, line,
            case when min(error_type) = 'LINE SIZE OVER MAXIMUM'
                then 'a line longer than ' || ? || ' MB (the longest line read)'
                else 'a NUL byte in the line'
            end,
            min(csv_line)
        from incoming_rejects group by line
        """,
        [rel, _MAX_LINE_BYTES // 2**20],
    ).fetchone()
    if rejected:
        # The n-th kept line is the n-th line that was not rejected: renumber this file's lines.
        con.execute(
            """
            update batch.lines as l set _row = n.line_number
            from (
                select n as line_number, row_number() over (order by n) as ordinal
                from range(
                    1,
                    (select count(*) from batch.lines where _file = $file)
                    + (select count(*) from batch.rejected where _file = $file) + 1
                ) as t(n)
                where n not in (select _row from batch.rejected where _file = $file)
            ) as n
            where l._file = $file and l._row = n.ordinal
            """,
            {"file": rel},
        )


def _read_flat(
    con: duckdb.DuckDBPyConnection, source: Source, relation: str, path: Path, rel: str
) -> None:
    try:
        described = con.execute(f"describe select * from {relation}", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise FileError(f"{path}: cannot be read: {_first_line(exc)}") from exc
    types = {row[0]: row[1] for row in described}
    for group in source.required_any:
        if not any(_locate(f, types) for f in group):
            names = " or ".join(repr(f) for f in group)
            raise FileError(
                f"{path}: missing required column {names}; found {sorted(types)}. "
                "Flat files name nested fields with dots, e.g. 'context.campaign.source'."
            )
    select: list[str] = []
    binds: list[Any] = []
    for field in (*source.fields, *source.objects):
        expr, args = (
            _object_expr(field, types)
            if field in source.objects
            else _locate(field, types) or ("null", [])
        )
        select.append(f"cast({expr} as varchar)")
        binds.extend(args)
    sql = f"""
        insert into batch.flat
        select ?, row_number() over (), null, cast(to_json(src) as varchar),
               {", ".join(select)}
        from {relation} as src
    """
    # parameter order: the file name, those in the SELECT list, then the file path in FROM
    _run(con, sql, [rel, *binds, str(path)], path, "a table")


def _locate(field: str, types: dict[str, str]) -> tuple[str, list[Any]] | None:
    """An expression for `field` in a flat file: its dotted column, or a path into a struct."""
    if field in types:
        return quote_ident(field), []
    head, _, rest = field.partition(".")
    if rest and head in types and types[head].upper().startswith(("STRUCT", "MAP", "JSON")):
        return f"json_extract_string(to_json({quote_ident(head)}), ?)", [f"$.{rest}"]
    return None


def _object_expr(obj: str, types: dict[str, str]) -> tuple[str, list[Any]]:
    """A JSON object field: its own column, or rebuilt from its `obj.*` columns."""
    if obj in types:
        if types[obj].upper() == "VARCHAR":
            return f"case when json_valid({quote_ident(obj)}) then {quote_ident(obj)} end", []
        return f"to_json({quote_ident(obj)})", []
    members = sorted(c for c in types if c.startswith(f"{obj}."))
    if not members:
        return "null", []
    pairs = ", ".join(f"?, {quote_ident(c)}" for c in members)
    return f"json_object({pairs})", [c[len(obj) + 1 :] for c in members]


def _run(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any], path: Path, kind: str
) -> None:
    try:
        con.execute(sql, params).fetchall()
    except duckdb.Error as exc:
        problem = _first_line(exc)
        if "state machine reached an invalid state" in problem:
            problem = (
                "a carriage return inside a line; lines must end with \\n or \\r\\n, "
                f"re-export the file ({problem})"
            )
        raise FileError(f"{path}: cannot be read as {kind}: {problem}") from exc


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
