"""File formats: the same rows written as JSON lines, CSV or Parquet, gzipped or not.

A file is written in parts, one per shard, in shard order. Text parts are appended: a gzip file
is then a series of gzip members (valid gzip, read as one stream), a CSV file has its header
once. A Parquet file cannot be appended to, so each shard's part is kept as an Arrow IPC file
and the parts are merged into row groups at the end.

Every writer is byte-deterministic: fixed key and column order, '\\n' line ends, gzip with
mtime 0 and no embedded file name, Parquet from an all-string Arrow table.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .records import Row

Flatten = Callable[[dict[str, Any]], dict[str, Any]]
# Rows per Parquet row group when parts are merged (DuckDB's own row group size).
ROW_GROUP_ROWS = 122_880
_IPC = pa.ipc.IpcWriteOptions(compression="zstd")
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # built once


@dataclass
class Chunk:
    """One shard's rows of one file, ready to be appended."""

    name: str  # relative to the dataset folder, e.g. 'web/2026-07-01.jsonl.gz'
    rows: int
    data: bytes = b""  # text formats: the bytes to append
    header: bytes = b""  # CSV without its header line in `data`: the header, for a new file
    part: Path | None = None  # Parquet: the rows as an Arrow IPC file, merged at the end


def json_line(row: Row) -> str:
    if row.raw is not None:
        return row.raw
    return _ENCODE(row.data)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _gzip(payload: bytes, level: int) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=level) as gz:
        gz.write(payload)
    return buffer.getvalue()


def encode(
    name: str,
    rows: list[Row],
    columns: Sequence[str],
    flatten: Flatten | None,
    *,
    header: bool,
    level: int,
    part: Path,
) -> Chunk:
    """The chunk of `rows` in the format the file name asks for (.jsonl[.gz], .csv[.gz],
    .parquet). CSV: with the header line when `header`. Parquet: written to `part`."""
    if name.endswith(".parquet"):
        part.parent.mkdir(parents=True, exist_ok=True)
        table = _table(rows, columns, flatten)
        with (
            pa.OSFile(str(part), "wb") as sink,
            pa.ipc.new_file(sink, table.schema, options=_IPC) as ipc,
        ):
            ipc.write_table(table)
        return Chunk(name, len(rows), part=part)
    gz = name.endswith(".gz")

    def pack(text: str) -> bytes:
        payload = text.encode("utf-8")
        return _gzip(payload, level) if gz else payload

    if name.endswith((".jsonl", ".jsonl.gz")):
        return Chunk(name, len(rows), pack("".join(json_line(row) + "\n" for row in rows)))
    if name.endswith((".csv", ".csv.gz")):
        records = [["" if v is None else v for v in _flat(row, columns, flatten)] for row in rows]
        if header:
            return Chunk(name, len(rows), pack(_csv([list(columns), *records])))
        return Chunk(name, len(rows), pack(_csv(records)), header=pack(_csv([list(columns)])))
    raise ValueError(f"unsupported output file: {name}")


def _flat(row: Row, columns: Sequence[str], flatten: Flatten | None) -> list[str | None]:
    values = flatten(row.data) if flatten else row.data
    return [_text(values.get(c)) for c in columns]


def _csv(records: list[list[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    return out.getvalue()


def _table(rows: list[Row], columns: Sequence[str], flatten: Flatten | None) -> pa.Table:
    """All-string columns, built column by column."""
    if flatten:  # writes every value as text already
        flat = [flatten(row.data) for row in rows]
        values = {c: [d.get(c) for d in flat] for c in columns}
    else:
        values = {c: [_text(row.data.get(c)) for row in rows] for c in columns}
    return pa.table({c: pa.array(v, type=pa.string()) for c, v in values.items()})


def append(path: Path, chunk: Chunk) -> None:
    """Append a text chunk to its file (a CSV file starts with its header)."""
    new = not path.exists()
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as fh:
        if new:
            fh.write(chunk.header)
        fh.write(chunk.data)


def merge_parquet(path: Path, parts: list[Path]) -> None:
    """Write the parts, in order, as one Parquet file of ROW_GROUP_ROWS-row groups; delete them.
    Holds at most a row group and one part in memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    pending: list[pa.Table] = []
    for part in parts:
        with pa.OSFile(str(part)) as source:
            table = pa.ipc.open_file(source).read_all()
        writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
        pending.append(table)
        rows = sum(t.num_rows for t in pending)
        if rows >= ROW_GROUP_ROWS:
            whole = pa.concat_tables(pending)
            full = rows - rows % ROW_GROUP_ROWS
            writer.write_table(whole.slice(0, full), row_group_size=ROW_GROUP_ROWS)
            pending = [whole.slice(full)]
    assert writer is not None
    if any(t.num_rows for t in pending):
        writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
    writer.close()
    for part in parts:
        part.unlink()
