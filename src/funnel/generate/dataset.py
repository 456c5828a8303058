"""`generate`: the whole synthetic dataset, from the population to the files and the truth."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from . import crm, email, faults, truth, web
from .campaigns import schedule
from .ids import IdFactory
from .people import build_population
from .records import ID_FIELD, Row
from .timefmt import iso_week
from .writers import write_rows

# Each source has one file per ISO week (of the UTC event time). A few weeks use another format
# so every reader gets exercised: (default, format of the smallest week, formats of the 2nd and
# 3rd of the remaining weeks). The smallest week takes the uncompressed format to save space.
_FORMATS = {
    "web": (".jsonl.gz", ".jsonl", (".parquet", ".csv.gz")),
    "crm": (".csv", None, (".parquet",)),
    "email": (".csv.gz", ".jsonl", ()),
}
_WEEK_FILE = re.compile(r"^\d{4}-W\d{2}\.(jsonl|jsonl\.gz|csv|csv\.gz|parquet)$")


def _file_formats(source: str, weeks: dict[str, list[Row]]) -> dict[str, str]:
    default, smallest, others = _FORMATS[source]
    formats = dict.fromkeys(sorted(weeks), default)
    if smallest and len(weeks) > len(others):
        formats[min(sorted(weeks), key=lambda w: len(weeks[w]))] = smallest
    rest = [w for w in sorted(weeks) if formats[w] == default]
    for week, fmt in zip(rest[1:], others, strict=False):
        formats[week] = fmt
    return formats


def _layout(source: str, rows: list[Row]) -> dict[str, list[Row]]:
    weeks: dict[str, list[Row]] = {}
    for row in rows:
        weeks.setdefault(iso_week(row.at), []).append(row)
    key = ID_FIELD[source]
    return {
        f"{source}/{week}{fmt}": sorted(weeks[week], key=lambda r: (r.at, r.data[key]))
        for week, fmt in _file_formats(source, weeks).items()
    }


def _clear(out: Path) -> None:
    """Remove files of an earlier run so the folder mirrors this one (only files we write)."""
    for source in ("web", "crm", "email"):
        folder = out / source
        if folder.is_dir():
            for path in folder.iterdir():
                if path.is_file() and _WEEK_FILE.match(path.name):
                    path.unlink()
    for name in truth.TRUTH_FILES:
        (out / "truth" / name).unlink(missing_ok=True)


def generate(
    out: Path,
    customers: int = 2000,
    days: int = 90,
    seed: int = 42,
    start: date = date(2026, 7, 1),
) -> dict[str, Any]:
    """Write a deterministic synthetic dataset to `out` (web/, crm/, email/, truth/).

    Same arguments, same bytes. `customers` must be at least 40 and `days` at least 7 (room for
    the hubs and planted edge cases); every web format appears once the window spans 4 ISO weeks.
    Week files and truth files of an earlier run in `out` are replaced; nothing else is touched.
    Returns a summary: persons, valid events per source, sessions, files written (relative to
    `out`), bad rows, duplicate copies and total bytes.
    """
    out = Path(out)
    begin = datetime.combine(start, time(), UTC)
    end = begin + timedelta(days=days)

    def stream(name: str) -> random.Random:
        return random.Random(f"{seed}:{name}")  # str seeds hash with SHA-512: stable everywhere

    ids = IdFactory(stream("ids"))
    campaigns = schedule(begin, end)
    pop = build_population(customers, begin, end, campaigns, stream("people"), ids)
    web_result = web.build_web(pop, stream("web"), ids)
    valid = {
        "web": web_result.rows,
        "crm": crm.build_crm(pop, web_result.signup_at, stream("crm"), ids),
        "email": email.build_email(pop, campaigns, web_result.landings, stream("email"), ids),
    }
    for source, rows in valid.items():
        outside = [r for r in rows if not begin <= r.at < end]
        if outside:
            raise RuntimeError(f"{len(outside)} {source} rows fall outside the window")

    files: dict[str, list[Row]] = {}
    fault_rng = stream("faults")
    for source, rows in valid.items():
        source_files = _layout(source, rows)
        if source == "email":  # half the e-mail files write Unix seconds, half ISO 8601
            for i, name in enumerate(sorted(source_files)):
                email.stamp(source_files[name], unix=i % 2 == 0)
        faults.plant(source_files, source, fault_rng, ids)
        files.update(source_files)

    _clear(out)
    flatten = {"web": web.flatten, "crm": None, "email": None}
    columns = {"web": web.FLAT_COLUMNS, "crm": crm.COLUMNS, "email": email.COLUMNS}
    for name in sorted(files):
        source = name.split("/", 1)[0]
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_rows(path, files[name], columns[source], flatten[source])
    counts = truth.write_truth(out / "truth", pop, valid, files)

    written = sorted(files) + [f"truth/{name}" for name in truth.TRUTH_FILES]
    return {
        "persons": len(pop.people),
        "events": {source: len(rows) for source, rows in valid.items()},
        "sessions": counts["sessions.csv"],
        "files": written,
        "bad_rows": counts["bad_rows.csv"],
        "duplicates": counts["duplicates.csv"],
        "bytes": sum((out / name).stat().st_size for name in written),
    }
