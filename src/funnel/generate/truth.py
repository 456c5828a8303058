"""The planted ground truth, computed from the valid rows exactly as written (never from the
plan), so tests of the pipeline can compare against it.

Sessions (what the pipeline implements):
- all valid, de-duplicated web events (page, track, identify) per anonymousId, ordered by
  (UTC instant, messageId);
- events with context.sessionId: one session per (anonymousId, sessionId), whatever the gaps;
- events without: a new session when the gap to the previous such event of the device is
  strictly more than 30 minutes (exactly 30:00.000 stays in the session);
- then every session is cut into chunks of at most 24 h: elapsed = event - session's first
  event, chunk = 0 if elapsed == 0 else ceil(elapsed / 24 h) - 1; each chunk is a session and
  all chunks of a session that was cut have is_split = true;
- channel = GA4 channel of the chunk's first event (channels.classify on context.campaign and
  context.page.referrer), landing_path = that event's context.page.path. The generator gives
  every event of a long (> 24 h) tracker session the same utm campaign, so each chunk's first
  event classifies to the same channel even though its referrer is internal.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .channels import classify
from .people import JUNK_EMAILS, JUNK_USER_IDS, SUPPORT_MAILBOX, Population
from .records import ID_FIELD, Row
from .timefmt import iso_ms

TIMEOUT = timedelta(minutes=30)
CHUNK_MS = 24 * 3_600_000
HEADERS = {
    "identifiers.csv": ["person_id", "identifier_type", "identifier_value"],
    "hubs.csv": ["identifier_type", "identifier_value", "persons"],
    "people.csv": [
        "person_id", "kind", "acquisition_channel", "first_touch_at", "orders", "revenue",
    ],
    "sessions.csv": [
        "anonymous_id", "started_at", "ended_at", "events", "page_views", "channel",
        "landing_path", "is_split",
    ],
    "orders.csv": ["person_id", "order_id", "occurred_at", "revenue"],
    "journeys.csv": ["person_id", "stage", "first_at"],
    "checkout.csv": ["person_id", "furthest_step"],
    "bad_rows.csv": ["source", "file", "row", "reason"],
    "duplicates.csv": ["source", "file", "row", "event_id"],
}  # fmt: skip
TRUTH_FILES = tuple(HEADERS)
# The sample's checkout funnel (funnel.yaml): ordered steps within 14 days of the first.
CHECKOUT = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed")
CHECKOUT_WINDOW = timedelta(days=14)
STAGES = ("awareness", "consideration", "decision", "purchase", "retention", "advocacy")
_CONSIDER_EVENTS = {"Product Viewed", "Product List Viewed", "Products Searched"}
_CONSIDER_PAGES = {"Pricing", "Product", "Blog Post"}
_DECIDE_EVENTS = {"Product Added", "Checkout Started", "Demo Requested"}
_JUNK = {v.strip().lower() for v in (*JUNK_USER_IDS, *JUNK_EMAILS)}


@dataclass
class ShardTruth:
    """One shard's truth: per table its CSV records (no header) and their count; bad rows and
    duplicates as records whose `row` counts within the shard's part of the file; hub -> persons.
    """

    text: dict[str, str]
    counts: dict[str, int]
    located: dict[str, list[list[Any]]]
    hubs: dict[tuple[str, str], int]


def _ts(at: datetime) -> str:
    return iso_ms(at)


def _clean(value: Any, email: bool = False) -> str | None:
    """An identifier as the pipeline normalizes it; None for missing or junk values."""
    if value is None:
        return None
    text = str(value).strip()
    if email:
        text = text.lower()
    return None if text.lower() in _JUNK else text


def sessions(web: list[Row]) -> list[dict[str, Any]]:
    by_device: dict[str, list[Row]] = defaultdict(list)
    for row in web:
        by_device[row.data["anonymousId"]].append(row)
    out = []
    for anon in sorted(by_device):
        events = sorted(by_device[anon], key=lambda r: (r.at, r.data["messageId"]))
        groups: dict[tuple[str, str], list[Row]] = {}
        last: datetime | None = None
        counter = 0
        for row in events:
            tracker = row.data["context"].get("sessionId")
            if tracker:
                groups.setdefault(("tracker", tracker), []).append(row)
                continue
            if last is None or row.at - last > TIMEOUT:
                counter += 1
            last = row.at
            groups.setdefault(("gap", str(counter)), []).append(row)
        for group in groups.values():
            chunks: dict[int, list[Row]] = defaultdict(list)
            for row in group:
                elapsed = (row.at - group[0].at) // timedelta(milliseconds=1)
                chunks[0 if elapsed == 0 else (elapsed - 1) // CHUNK_MS].append(row)
            for chunk in chunks.values():
                out.append(_session(anon, chunk, len(chunks) > 1))
    out.sort(key=lambda s: (s["anonymous_id"], s["started_at"]))
    return out


def _session(anon: str, chunk: list[Row], split: bool) -> dict[str, Any]:
    first = chunk[0].data["context"]
    campaign = first.get("campaign", {})
    return {
        "anonymous_id": anon,
        "started_at": _ts(chunk[0].at),
        "ended_at": _ts(chunk[-1].at),
        "events": len(chunk),
        "page_views": sum(r.data["type"] == "page" for r in chunk),
        "channel": classify(
            campaign.get("source"), campaign.get("medium"), first["page"]["referrer"]
        ),
        "landing_path": first["page"]["path"],
        "is_split": "true" if split else "false",
        "_person": chunk[0].person_id,
        "_at": chunk[0].at,
    }


def _identifiers(row: Row) -> list[tuple[str, str | None]]:
    d = row.data
    if row.source == "web":
        return [
            ("anonymous_id", _clean(d.get("anonymousId"))),
            ("user_id", _clean(d.get("userId"))),
            ("email", _clean((d.get("traits") or {}).get("email"), email=True)),
        ]
    if row.source == "crm":
        return [
            ("contact_id", _clean(d["contact_id"])),
            ("user_id", _clean(d["user_id"])),
            ("email", _clean(d["email"], email=True)),
        ]
    return [("email", _clean(d["email"], email=True))]


def _stages(row: Row) -> list[str]:
    """Journey stages a valid row is evidence of (retention is derived from purchases)."""
    d = row.data
    stages = ["awareness"]
    if row.source == "web":
        name = d.get("event") if d["type"] == "track" else d.get("name")
        if d["type"] == "track" and name in _CONSIDER_EVENTS:
            stages.append("consideration")
        if d["type"] == "page" and name in _CONSIDER_PAGES:
            stages.append("consideration")
        if d["type"] == "track" and name in _DECIDE_EVENTS:
            stages.append("decision")
        if d["type"] == "track" and name == "Order Completed":
            stages.append("purchase")
    elif row.source == "crm":
        kind = d["event_type"]
        if kind == "deal_created":
            stages.append("decision")
        if kind == "deal_won":
            stages.append("purchase")
        if kind in ("review_submitted", "referral_made"):
            stages.append("advocacy")
        if kind == "nps_response" and int(d["score"]) >= 9:
            stages.append("advocacy")
    elif d["event"] == "click":
        stages.append("consideration")
    return stages


def checkout_paths(web: list[Row]) -> list[list[Any]]:
    """Each person's furthest checkout step: every Product Viewed starts an attempt that takes
    each next step at its first occurrence within the window (the steps are distinct events,
    so this is the furthest reachable); the best attempt counts."""
    steps: dict[str, list[tuple[datetime, str, int]]] = defaultdict(list)
    for row in web:
        d = row.data
        if d["type"] == "track" and d.get("event") in CHECKOUT and row.person_id:
            steps[row.person_id].append((row.at, d["messageId"], CHECKOUT.index(d["event"])))
    paths = []
    for pid, events in sorted(steps.items()):
        events.sort()
        best = 0
        for i, (start, _, step) in enumerate(events):
            if step != 0:
                continue
            level = 1
            for at, _, later in events[i + 1 :]:
                if at - start > CHECKOUT_WINDOW or level == len(CHECKOUT):
                    break
                if later == level:
                    level += 1
            best = max(best, level)
        if best:
            paths.append([pid, best])
    return paths


def _cents(row: Row) -> int:
    if row.source == "web":
        return round(row.data["properties"]["revenue"] * 100)
    return round(float(row.data["amount"]) * 100)


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def compute(
    pop: Population, valid: dict[str, list[Row]], files: dict[str, list[Row]]
) -> ShardTruth:
    """The truth of one shard's population, from its valid rows and its files' rows."""
    hubs = {
        ("anonymous_id", pop.shared_device.anonymous_id),
        ("email", SUPPORT_MAILBOX),
    }
    rows = [r for source in ("web", "crm", "email") for r in valid[source]]

    identifiers: set[tuple[str, str, str]] = set()
    hub_people: dict[tuple[str, str], set[str]] = defaultdict(set)
    sources: dict[str, set[str]] = defaultdict(set)
    first_touch: dict[str, datetime] = {}
    stage_at: dict[tuple[str, str], datetime] = {}
    purchases: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for row in rows:
        pid = row.person_id
        assert pid is not None
        sources[pid].add(row.source)
        first_touch[pid] = min(first_touch.get(pid, row.at), row.at)
        for kind, value in _identifiers(row):
            if value is None:
                continue
            if (kind, value) in hubs:
                hub_people[(kind, value)].add(pid)
            else:
                identifiers.add((pid, kind, value))
        for stage in _stages(row):
            key = (pid, stage)
            stage_at[key] = min(stage_at.get(key, row.at), row.at)
            if stage == "purchase":
                purchases[pid].append((row.at, _cents(row)))
    for pid, bought in purchases.items():
        if len(bought) >= 2:
            stage_at[(pid, "retention")] = sorted(bought)[1][0]

    session_rows = sessions(valid["web"])
    owners = {d.anonymous_id: p.person_id for p in pop.people for d in p.devices}
    first_session: dict[str, dict[str, Any]] = {}
    for s in session_rows:
        pid = owners.get(s["anonymous_id"])
        if pid and (pid not in first_session or s["_at"] < first_session[pid]["_at"]):
            first_session[pid] = s

    people_rows = []
    for person in pop.people:
        pid = person.person_id
        present = [s for s in ("web", "crm", "email") if s in sources[pid]]
        if not present:
            continue
        kind = "web" if present == ["web"] else "_".join(present)
        if len(present) == 1 and kind != "web":
            kind += "_only"
        if "web" in present:
            channel = first_session[pid]["channel"]
        else:
            channel = person.channel if "crm" in present else ""
        bought = purchases.get(pid, [])
        people_rows.append(
            [
                pid,
                kind,
                channel,
                _ts(first_touch[pid]),
                len(bought),
                _money(sum(c for _, c in bought)),
            ]
        )

    orders = [
        [r.person_id, r.data["properties"]["order_id"], _ts(r.at), _money(_cents(r))]
        for r in valid["web"]
        if r.data["type"] == "track" and r.data.get("event") == "Order Completed"
    ]
    orders.sort(key=lambda o: (o[0], o[2], o[1]))

    bad, dups = [], []
    for name in sorted(files):
        for number, row in enumerate(files[name], start=1):
            if row.bad:
                bad.append([row.source, name, number, row.bad])
            elif row.dup:
                dups.append([row.source, name, number, row.data[ID_FIELD[row.source]]])

    tables = {
        "identifiers.csv": [list(i) for i in sorted(identifiers)],
        "people.csv": people_rows,
        "sessions.csv": [[s[k] for k in list(s)[:8]] for s in session_rows],
        "orders.csv": orders,
        "journeys.csv": [
            [pid, stage, _ts(stage_at[(pid, stage)])]
            for pid in sorted({p for p, _ in stage_at})
            for stage in STAGES
            if (pid, stage) in stage_at
        ],
        "checkout.csv": checkout_paths(valid["web"]),
    }
    return ShardTruth(
        text={name: _csv_text(records) for name, records in tables.items()},
        counts={name: len(records) for name, records in tables.items()},
        located={"bad_rows.csv": bad, "duplicates.csv": dups},
        hubs={hub: len(hub_people[hub]) for hub in hubs},
    )


def _csv_text(records: list[list[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    return out.getvalue()


class TruthWriter:
    """Writes truth/*.csv from the shards' truths, in shard order, appending as they come.

    Persons, devices and ids never repeat across shards, so every table is the union of the
    shards' tables, except: the `row` of bad rows and duplicates counts from the file's start
    (`offsets`: rows earlier shards wrote to it), and hubs shared by shards (the support mailbox)
    join the persons of all of them.
    """

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._files = {
            name: (folder / name).open("w", encoding="utf-8", newline="")
            for name in TRUTH_FILES
            if name != "hubs.csv"
        }
        for name, fh in self._files.items():
            fh.write(_csv_text([HEADERS[name]]))
        self._hubs: dict[tuple[str, str], int] = defaultdict(int)
        self._folder = folder
        self.counts = dict.fromkeys(TRUTH_FILES, 0)

    def add(self, truth: ShardTruth, offsets: dict[str, int]) -> None:
        for name, text in truth.text.items():
            self._files[name].write(text)
            self.counts[name] += truth.counts[name]
        for name, records in truth.located.items():
            moved = [[source, file, row + offsets[file], x] for source, file, row, x in records]
            self._files[name].write(_csv_text(moved))
            self.counts[name] += len(moved)
        for hub, persons in truth.hubs.items():
            self._hubs[hub] += persons

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        hubs = [[kind, value, self._hubs[(kind, value)]] for kind, value in sorted(self._hubs)]
        with (self._folder / "hubs.csv").open("w", encoding="utf-8", newline="") as fh:
            fh.write(_csv_text([HEADERS["hubs.csv"], *hubs]))
        self.counts["hubs.csv"] = len(hubs)
