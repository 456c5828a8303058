"""File formats: the same rows written as JSON lines, CSV or Parquet, gzipped or not.

Every writer is byte-deterministic: fixed key and column order, '\\n' line ends, gzip with
mtime 0 and no embedded file name, Parquet from an all-string Arrow table.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .records import Row

Flatten = Callable[[dict[str, Any]], dict[str, Any]]


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # built once


def json_line(row: Row) -> str:
    if row.raw is not None:
        return row.raw
    return _ENCODE(row.data)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _gzip(payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as gz:
        gz.write(payload)
    return buffer.getvalue()


def write_rows(
    path: Path, rows: list[Row], columns: Sequence[str], flatten: Flatten | None = None
) -> None:
    """Write `rows` in the format the file name asks for (.jsonl[.gz], .csv[.gz], .parquet)."""
    name = path.name
    if name.endswith(".parquet"):
        _write_parquet(path, rows, columns, flatten)
        return
    if name.endswith((".jsonl", ".jsonl.gz")):
        payload = "".join(json_line(row) + "\n" for row in rows).encode("utf-8")
    elif name.endswith((".csv", ".csv.gz")):
        payload = _csv(rows, columns, flatten).encode("utf-8")
    else:
        raise ValueError(f"unsupported output file: {name}")
    path.write_bytes(_gzip(payload) if name.endswith(".gz") else payload)


def _flat(row: Row, columns: Sequence[str], flatten: Flatten | None) -> list[str | None]:
    values = flatten(row.data) if flatten else row.data
    return [_text(values.get(c)) for c in columns]


def _csv(rows: list[Row], columns: Sequence[str], flatten: Flatten | None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in _flat(row, columns, flatten)])
    return out.getvalue()


def _write_parquet(
    path: Path, rows: list[Row], columns: Sequence[str], flatten: Flatten | None
) -> None:
    values = [_flat(row, columns, flatten) for row in rows]
    table = pa.table(
        {c: pa.array([v[i] for v in values], type=pa.string()) for i, c in enumerate(columns)}
    )
    pq.write_table(table, path, compression="zstd")


def write_csv(path: Path, header: Sequence[str], records: list[Sequence[Any]]) -> None:
    """A plain CSV table (the truth files)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(records)
    path.write_bytes(out.getvalue().encode("utf-8"))
