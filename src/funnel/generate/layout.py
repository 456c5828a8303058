"""How rows become files.

weekly: one file per source and ISO week, a few weeks in another format so every reader gets
        exercised (the committed sample).
daily:  one file per source and UTC day, all in one format (exports at scale).

File names are the same in every shard of a dataset, so each shard's rows of a file are appended
to it (see export).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from .records import ID_FIELD, Row
from .timefmt import iso_week

WEEKLY, DAILY = "weekly", "daily"
LAYOUTS = (WEEKLY, DAILY)
DAILY_FORMATS = ("jsonl.gz", "parquet")
# gzip level: 9 keeps the sample's bytes; 6 (gzip's default) is twice as fast at 5% more bytes
GZIP_LEVEL = {WEEKLY: 9, DAILY: 6}
FILE_NAME = re.compile(r"^\d{4}-(W\d{2}|\d{2}-\d{2})\.(jsonl|jsonl\.gz|csv|csv\.gz|parquet)$")

# Weekly layout, per source: (default, format of the smallest week, formats of the 2nd and 3rd
# of the remaining weeks). The smallest week takes the uncompressed format to save space.
_FORMATS = {
    "web": (".jsonl.gz", ".jsonl", (".parquet", ".csv.gz")),
    "crm": (".csv", None, (".parquet",)),
    "email": (".csv.gz", ".jsonl", ()),
}

Formats = dict[str, str]  # period -> file suffix, e.g. '2026-W28' -> '.parquet'


def period(layout: str, at: datetime) -> str:
    """The file a row at UTC instant `at` goes to: '2026-W27' or '2026-07-01'."""
    return iso_week(at) if layout == WEEKLY else at.astimezone(UTC).date().isoformat()


def _weekly_formats(source: str, weeks: dict[str, list[Row]]) -> Formats:
    default, smallest, others = _FORMATS[source]
    formats = dict.fromkeys(sorted(weeks), default)
    if smallest and len(weeks) > len(others):
        formats[min(sorted(weeks), key=lambda w: len(weeks[w]))] = smallest
    rest = [w for w in sorted(weeks) if formats[w] == default]
    for week, fmt in zip(rest[1:], others, strict=False):
        formats[week] = fmt
    return formats


def split(
    source: str, rows: list[Row], layout: str, file_format: str | None, chosen: Formats | None
) -> tuple[dict[str, list[Row]], Formats]:
    """The source's rows per file name, each file in (UTC instant, event id) order, and the
    formats used. Weekly formats are chosen from the row counts, unless `chosen` (by the first
    shard, so every shard writes a week in the same format)."""
    periods: dict[str, list[Row]] = {}
    for row in rows:
        periods.setdefault(period(layout, row.at), []).append(row)
    if layout == DAILY:
        formats = dict.fromkeys(periods, f".{file_format}")
    elif chosen is None:
        formats = _weekly_formats(source, periods)
    else:
        formats = {p: chosen.get(p, _FORMATS[source][0]) for p in periods}
    key = ID_FIELD[source]
    files = {
        f"{source}/{p}{formats[p]}": sorted(periods[p], key=lambda r: (r.at, r.data[key]))
        for p in sorted(periods)
    }
    return files, formats


def unix_timestamps(name: str) -> bool:
    """E-mail files alternate by period between Unix seconds and ISO 8601 timestamps; by the
    period's number, so a file's style does not depend on which periods a shard has."""
    stem = name.split("/")[-1].split(".")[0]
    if "-W" in stem:
        return int(stem[-2:]) % 2 == 0
    return date.fromisoformat(stem).toordinal() % 2 == 0
