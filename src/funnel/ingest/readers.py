"""Read one export file into the temp table `incoming`: one text column per field, plus lineage.

`incoming` has `_row` (1-based row of the file: the line of a `.jsonl` file, the record of a CSV
or Parquet file), `_error` (set when the row cannot even be parsed), `_record` (the row as
received, JSON text, so a quarantined row keeps everything) and one VARCHAR column per field of
the source. DuckDB does the reading; values stay in the database and file paths, column names and
JSON keys are bound as parameters or quoted as identifiers, never pasted into SQL as text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from funnel.ingest.sources import Source, column_name

# A delimiter that does not occur in text, so that a line is one column.
_NO_DELIMITER = "\x00"
_MAX_LINE_BYTES = 64 * 1024 * 1024


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


def read_into_incoming(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> None:
    """Create `incoming` from the file, and `incoming_rejected` (`_row`, `reason`, `record`)
    with the lines the reader could not even split (they go to quarantine as they are)."""
    fmt = file_format(path)
    if fmt == "jsonl":
        _read_jsonl(con, source, path)
    elif fmt == "csv":
        _read_csv(con, source, path)
    else:
        _read_flat(con, source, "read_parquet(?)", [str(path)], path)
        con.execute(_NO_REJECTS).fetchall()


_NO_REJECTS = """
    create or replace temp table incoming_rejected as
    select cast(null as bigint) as _row, cast(null as varchar) as reason,
           cast(null as varchar) as record
    where false
"""


def _read_jsonl(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> None:
    # 1. The lines, split by DuckDB's CSV reader with a delimiter no text line holds. A line
    #    that holds it anyway (a NUL byte) is rejected with its line number.
    lines_sql = f"""
        create or replace temp table incoming_lines as
        select line, row_number() over () as ordinal
        from read_csv(?, columns = {{'line': 'VARCHAR'}}, header = false, delim = ?,
                      quote = '', escape = '', auto_detect = false, store_rejects = true,
                      rejects_table = 'incoming_rejects', rejects_scan = 'incoming_reject_scans',
                      max_line_size = {_MAX_LINE_BYTES}, compression = 'auto')
    """
    _run(con, lines_sql, [str(path), _NO_DELIMITER], path, "JSON lines")
    con.execute(
        """
        create or replace temp table incoming_rejected as
        select line as _row, 'a NUL byte in the line' as reason, min(csv_line) as record
        from incoming_rejects group by line
        """
    ).fetchall()
    # 2. Each kept line's line number: the n-th kept line is the n-th line not rejected.
    paths = [f"$.{f}" for f in source.fields]
    fields = ",\n".join(f"vals[{i + 1}] as {column_name(f)}" for i, f in enumerate(source.fields))
    objects = "".join(
        f",\ncast(objs[{i + 1}] as varchar) as {column_name(o)}"
        for i, o in enumerate(source.objects)
    )
    sql = f"""
        create or replace temp table incoming as
        with numbers as (
            select n as _row, row_number() over (order by n) as ordinal
            from range(
                1,
                (select count(*) from incoming_lines)
                + (select count(*) from incoming_rejected) + 1
            ) as t(n)
            where n not in (select _row from incoming_rejected)
        ),
        parsed as (
            select
                n._row,
                l.line,
                case
                    when not json_valid(l.line) then 'invalid JSON'
                    -- a valid JSON text that starts with a brace is an object
                    when ltrim(l.line, ' ' || chr(9)) not like '{{%' then 'not a JSON object'
                end as _error
            from incoming_lines as l
            inner join numbers as n on n.ordinal = l.ordinal
            -- blank lines (spaces, tabs, carriage returns; NUL bytes read as nothing) are no rows
            where trim(coalesce(l.line, ''), ' ' || chr(9) || chr(13)) <> ''
        ),
        docs as (
            select *, case when _error is null then line end as doc from parsed
        ),
        extracted as (
            -- one parse for all fields, one for the objects
            select *, json_extract_string(doc, ?) as vals, json_extract(doc, ?) as objs
            from docs
        )
        select _row, _error, line as _record,
        {fields}{objects}
        from extracted
    """
    # positional parameters in textual order: field paths, then object paths
    _run(con, sql, [paths, [f"$.{o}" for o in source.objects]], path, "JSON lines")


def _read_csv(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> None:
    relation = (
        "read_csv(?, header = true, all_varchar = true, delim = ',', quote = '\"', "
        "escape = '\"', store_rejects = true, rejects_table = 'incoming_rejects', "
        f"rejects_scan = 'incoming_reject_scans', max_line_size = {_MAX_LINE_BYTES}, "
        "compression = 'auto')"
    )
    _read_flat(con, source, relation, [str(path)], path)
    # a rejected line's `row` is its line number (the parser could not make a record of it)
    con.execute(
        """
        create or replace temp table incoming_rejected as
        select line as _row,
               'CSV ' || lower(min(error_type)) || ': ' || min(error_message) as reason,
               min(csv_line) as record
        from incoming_rejects group by line
        """
    ).fetchall()


def _read_flat(
    con: duckdb.DuckDBPyConnection, source: Source, relation: str, params: list[Any], path: Path
) -> None:
    try:
        described = con.execute(f"describe select * from {relation}", params).fetchall()
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
    for field in source.fields:
        expr, args = _locate(field, types) or ("null", [])
        select.append(f"cast({expr} as varchar) as {column_name(field)}")
        binds.extend(args)
    for obj in source.objects:
        expr, args = _object_expr(obj, types)
        select.append(f"cast({expr} as varchar) as {column_name(obj)}")
        binds.extend(args)
    sql = f"""
        create or replace temp table incoming as
        select row_number() over () as _row, cast(null as varchar) as _error,
               cast(to_json(src) as varchar) as _record,
               {", ".join(select)}
        from {relation} as src
    """
    # parameter order: those in the SELECT list, then the file path in FROM
    _run(con, sql, [*binds, *params], path, "a table")


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
