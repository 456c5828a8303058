"""Planted faults: bad rows (a pipeline must quarantine them) and re-sent duplicates.

Bad rows are extra rows, copies of a valid row with a fresh id and one defect, so they never
change any other truth table. Duplicate copies repeat a valid row's id and content after it:
the first copy by (file name, row) is the one that counts.
"""

from __future__ import annotations

import json
import random
from itertools import compress, filterfalse
from operator import attrgetter

from .ids import IdFactory
from .records import ID_FIELD, Row

# Reason codes per source (they are the `reason` column of truth/bad_rows.csv).
REASONS = {
    "web": ("bad_timestamp", "missing_id", "invalid_json", "junk_identifiers"),
    "crm": ("missing_id", "bad_timestamp", "bad_score"),
    "email": ("missing_email", "bad_timestamp"),
}
BAD_TIMESTAMPS = ("yesterday", "2026-13-45T99:00:00Z", "31/02/2026 25:61")
BAD_SHARE = 0.001
DUP_SHARE = 0.0005
_BAD, _DUP = attrgetter("bad"), attrgetter("dup")
_JSON_LINES = (".jsonl", ".jsonl.gz")  # the only files a line that is not JSON can be written to


def _valid(rows: list[Row]) -> list[int]:
    """Indices of the rows that are neither bad nor duplicate copies (loops in C: called once
    per planted row, on files of thousands of rows)."""
    index = range(len(rows))
    planted = set(compress(index, map(_BAD, rows))) | set(compress(index, map(_DUP, rows)))
    return list(filterfalse(planted.__contains__, index))


def plant(files: dict[str, list[Row]], source: str, rng: random.Random, ids: IdFactory) -> None:
    """Insert bad rows and duplicate copies into the files of one source, in place."""
    names = sorted(files)
    total = sum(len(rows) for rows in files.values())
    reasons = REASONS[source]
    if not any(name.endswith(_JSON_LINES) for name in names):  # e.g. all Parquet
        reasons = tuple(r for r in reasons if r != "invalid_json")
    per_reason = max(1, round(total * BAD_SHARE / len(reasons)))
    for reason in reasons:
        for _ in range(per_reason):
            _bad_row(files, names, source, reason, rng, ids)
    for _ in range(max(2, round(total * DUP_SHARE))):
        _duplicate(files, names, source, rng)


def _bad_row(
    files: dict[str, list[Row]],
    names: list[str],
    source: str,
    reason: str,
    rng: random.Random,
    ids: IdFactory,
) -> None:
    if reason == "invalid_json":
        names = [n for n in names if n.endswith(_JSON_LINES)]
    name = rng.choice(names)
    rows = files[name]
    candidates = _valid(rows)
    if reason == "bad_score":
        candidates = [i for i in candidates if rows[i].data["event_type"] == "nps_response"] or (
            candidates
        )
    row = rows[rng.choice(candidates)].copy()
    row.person_id = None
    row.bad = reason
    id_field = ID_FIELD[source]
    row.data[id_field] = ids.event_id(source)
    if reason == "missing_id":
        if source == "web":
            del row.data[id_field]
        else:
            row.data[id_field] = None
    elif reason == "bad_timestamp":
        row.data["occurred_at" if source == "crm" else "timestamp"] = rng.choice(BAD_TIMESTAMPS)
    elif reason == "invalid_json":
        line = json.dumps(row.data, separators=(",", ":"))
        row.raw = line[: rng.randrange(len(line) // 3, len(line) - 2)]
    elif reason == "junk_identifiers":
        row.data["anonymousId"] = "unknown"
        row.data["userId"] = None
    elif reason == "bad_score":
        row.data.update(event_type="nps_response", score="ten", stage=None, deal_id=None)
        row.data.update(amount=None, currency=None)
    elif reason == "missing_email":
        row.data["email"] = ""
    rows.insert(rng.randrange(len(rows) + 1), row)


def _duplicate(
    files: dict[str, list[Row]], names: list[str], source: str, rng: random.Random
) -> None:
    """Web: re-sent in a later file; CRM: repeated in the same or a later file; e-mail: the
    same file."""
    if source == "web":
        pick = rng.randrange(len(names) - 1) if len(names) > 1 else 0
    else:
        pick = rng.randrange(len(names))
    rows = files[names[pick]]
    origin = rng.choice(_valid(rows))
    copy = rows[origin].copy()
    copy.dup = True
    later = pick + 1 < len(names) and (source == "web" or (source == "crm" and rng.random() < 0.5))
    if later:
        target = files[names[rng.randrange(pick + 1, len(names))]]
        target.insert(rng.randrange(len(target) + 1), copy)
    else:
        rows.insert(rng.randrange(origin + 1, len(rows) + 1), copy)
