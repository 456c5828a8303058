"""The synthetic data generator: determinism, formats, and truth that matches the files.

The checks read the written files back with plain json/csv/pyarrow (not the generator's code),
so they test what a pipeline will actually see.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import zlib
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from conftest import Pipeline, published

from funnel.generate import generate
from funnel.generate.people import SUPPORT_MAILBOX
from funnel.generate.shard import SHARD_SIZE, sizes

SMALL = {"customers": 150, "days": 21, "seed": 7}
JUNK = {"", "null", "undefined", "0", "unknown", "test@example.com"}
WEB_COLUMNS = [
    "messageId", "type", "event", "name", "anonymousId", "userId", "timestamp", "properties.url",
    "properties.path", "properties.title", "properties.referrer", "properties.product_id",
    "properties.price", "properties.order_id", "properties.revenue", "properties.currency",
    "context.page.url", "context.page.path", "context.page.referrer", "context.page.title",
    "context.campaign.source", "context.campaign.medium", "context.campaign.name",
    "context.campaign.term", "context.campaign.content", "context.userAgent",
    "context.sessionId", "traits.email",
]  # fmt: skip
ID_FIELD = {"web": "messageId", "crm": "event_id", "email": "event_id"}


# --- reading the files back ------------------------------------------------------------------


def _flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def read_file(path: Path) -> list[dict[str, Any] | None]:
    """Rows of one export file as flat dicts (None for a line that is not JSON); empty -> None."""
    name = path.name
    if name.endswith(".parquet"):
        return [dict(r) for r in pq.read_table(path).to_pylist()]
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        text = f.read()
    if ".jsonl" in name:
        rows: list[dict[str, Any] | None] = []
        for line in text.splitlines():
            try:
                rows.append(_flatten(json.loads(line)))
            except json.JSONDecodeError:
                rows.append(None)
        return rows
    return [
        {k: (v if v != "" else None) for k, v in r.items()}
        for r in csv.DictReader(io.StringIO(text))
    ]


def parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value), UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def bad_reason(source: str, row: dict[str, Any] | None) -> str | None:
    """Why a row is unusable, by the generator's reason codes (None when usable)."""
    if row is None:
        return "invalid_json"
    if not row.get(ID_FIELD[source]):
        return "missing_id"
    if source == "email" and not (row.get("email") or "").strip():
        return "missing_email"
    stamp = row.get("occurred_at" if source == "crm" else "timestamp")
    if parse_time(stamp) is None:
        return "bad_timestamp"
    if source == "web" and row.get("anonymousId") == "unknown" and not row.get("userId"):
        return "junk_identifiers"
    score = str(row.get("score") or "")
    if source == "crm" and row.get("event_type") == "nps_response" and not score.isdigit():
        return "bad_score"
    return None


def read_truth(out: Path, name: str) -> list[dict[str, str]]:
    with open(out / "truth" / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Dataset:
    """Every file of one generated folder, the usable de-duplicated rows, and what was skipped."""

    def __init__(self, out: Path, summary: dict[str, Any]) -> None:
        self.out = out
        self.summary = summary
        self.files = {
            f"{s}/{p.name}": read_file(p)
            for s in ("web", "crm", "email")
            for p in sorted((out / s).iterdir())
        }
        self.valid: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.bad: set[tuple[str, str, int, str]] = set()
        self.dups: set[tuple[str, str, int, str]] = set()
        seen: set[tuple[str, str]] = set()
        for name in sorted(self.files):
            source = name.split("/")[0]
            for number, row in enumerate(self.files[name], start=1):
                reason = bad_reason(source, row)
                if reason:
                    self.bad.add((source, name, number, reason))
                    continue
                assert row is not None
                key = (source, row[ID_FIELD[source]])
                if key in seen:
                    self.dups.add((source, name, number, row[ID_FIELD[source]]))
                    continue
                seen.add(key)
                at = parse_time(row.get("occurred_at") or row.get("timestamp"))
                self.valid[source].append({**row, "_at": at})


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    out = tmp_path_factory.mktemp("small")
    return Dataset(out, generate(out, **SMALL))


# --- determinism and layout ------------------------------------------------------------------


def _tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(small: Dataset, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, **SMALL)
    assert _tree(again) == _tree(small.out)
    other = tmp_path / "other"
    generate(other, **{**SMALL, "seed": SMALL["seed"] + 1})
    first, second = _tree(small.out), _tree(other)
    assert first.keys() & second.keys()
    assert all(first[k] != second[k] for k in first.keys() & second.keys() if "W" in k)


def test_regenerating_into_the_same_folder_replaces_old_week_files(tmp_path: Path) -> None:
    generate(tmp_path, customers=60, days=35, seed=1)
    summary = generate(tmp_path, customers=60, days=14, seed=1)
    on_disk = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert on_disk == sorted(summary["files"])


def test_every_format_is_written_and_readable(small: Dataset) -> None:
    names = sorted(small.files)
    suffixes = {(n.split("/")[0], n.split(".", 1)[1]) for n in names}
    assert suffixes == {
        ("web", "jsonl.gz"), ("web", "jsonl"), ("web", "parquet"), ("web", "csv.gz"),
        ("crm", "csv"), ("crm", "parquet"), ("email", "csv.gz"), ("email", "jsonl"),
    }  # fmt: skip
    for name in names:
        week = Path(name).name.split(".")[0]
        assert len(week) == 8 and week[4:6] == "-W", name
        assert small.files[name], f"{name} is empty"
    for name in names:
        if name.startswith("web/") and name.endswith((".csv.gz", ".parquet")):
            assert list(small.files[name][0]) == WEB_COLUMNS
    crm_cols = "event_id,contact_id,email,user_id,event_type,occurred_at,stage,deal_id,amount"
    crm_cols += ",currency,score,channel"
    email_cols = "event_id,email,event,timestamp,campaign_id,campaign_name,url"
    for name in names:
        if name.startswith("crm/"):
            assert list(small.files[name][0]) == crm_cols.split(",")
        if name.startswith("email/") and name.endswith(".csv.gz"):
            assert list(small.files[name][0]) == email_cols.split(",")
    # gzip members carry no timestamp and no file name
    for path in small.out.rglob("*.gz"):
        header = path.read_bytes()[:10]
        assert header[4:8] == b"\0\0\0\0" and not header[3] & 0x08


def test_timestamps_are_varied_and_inside_the_window(small: Dataset) -> None:
    start = datetime(2026, 7, 1, tzinfo=UTC)
    end = start + timedelta(days=SMALL["days"])
    for source, rows in small.valid.items():
        assert all(start <= r["_at"] < end for r in rows), source
    web = [r["timestamp"] for r in small.valid["web"]]
    assert {t[-6:] for t in web if not t.endswith("Z")} == {"+02:00", "-05:00", "+05:30"}
    assert any(t.endswith("Z") for t in web)
    assert all(len(t.split(".")[1]) in (4, 9) for t in web)  # milliseconds
    crm = [r["occurred_at"] for r in small.valid["crm"]]
    assert any(t.endswith("Z") for t in crm) and not all(t.endswith("Z") for t in crm)
    styles = set()  # per e-mail file: Unix seconds or ISO 8601, never mixed
    for name, rows in small.files.items():
        if name.startswith("email/"):
            usable = [r for r in rows if not bad_reason("email", r)]
            styles.add(frozenset(str(r["timestamp"]).isdigit() for r in usable))
    assert styles == {frozenset({True}), frozenset({False})}


def test_email_variants_in_raw_exports(small: Dataset) -> None:
    raw = [r["email"] for r in small.valid["email"]] + [
        r["traits.email"] for r in small.valid["web"] if r.get("traits.email")
    ]
    assert any(e != e.strip() for e in raw)
    assert any(e.strip() != e.strip().lower() for e in raw)


# --- bad rows and duplicates -----------------------------------------------------------------


def test_bad_rows_truth_matches_the_files(small: Dataset) -> None:
    truth = {
        (r["source"], r["file"], int(r["row"]), r["reason"])
        for r in read_truth(small.out, "bad_rows.csv")
    }
    assert truth == small.bad
    reasons = {(s, reason) for s, _, _, reason in truth}
    assert reasons == {
        ("web", "bad_timestamp"), ("web", "missing_id"), ("web", "invalid_json"),
        ("web", "junk_identifiers"), ("crm", "missing_id"), ("crm", "bad_timestamp"),
        ("crm", "bad_score"), ("email", "missing_email"), ("email", "bad_timestamp"),
    }  # fmt: skip
    for _, name, _, reason in truth:
        if reason == "invalid_json":
            assert ".jsonl" in name
    assert small.summary["bad_rows"] == len(truth)


def test_duplicates_truth_matches_the_files(small: Dataset) -> None:
    truth = {
        (r["source"], r["file"], int(r["row"]), r["event_id"])
        for r in read_truth(small.out, "duplicates.csv")
    }
    assert truth == small.dups
    assert {s for s, *_ in truth} == {"web", "crm", "email"}
    first_file = {}
    for name in sorted(small.files):
        for row in small.files[name]:
            if row and row.get(ID_FIELD[name.split("/")[0]]):
                first_file.setdefault(row[ID_FIELD[name.split("/")[0]]], name)
    for source, name, _, event_id in truth:
        if source == "web":
            assert first_file[event_id] < name  # re-sent in a later file
        if source == "email":
            assert first_file[event_id] == name  # repeated within the same file


# --- sessions --------------------------------------------------------------------------------


def _channel(row: dict[str, Any]) -> str:
    utm = {
        ("google", "cpc"): "Paid Search",
        ("facebook", "paid_social"): "Paid Social",
        ("newsletter", "email"): "Email",
        ("adnetwork", "display"): "Display",
        ("partner", "affiliate"): "Affiliates",
    }
    source, medium = row.get("context.campaign.source"), row.get("context.campaign.medium")
    if source or medium:
        return utm[(source, medium)]
    referrer = row.get("context.page.referrer") or ""
    host = referrer.split("/")[2] if referrer.count("/") >= 2 else ""
    if not host or host == "shop.example.com":
        return "Direct"
    if host in ("www.google.com", "www.bing.com"):
        return "Organic Search"
    if host in ("www.facebook.com", "t.co"):
        return "Organic Social"
    return "Referral"


def _expected_sessions(web: list[dict[str, Any]]) -> list[tuple]:
    """The session rules, implemented once more from the files as written."""
    devices: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in web:
        devices[row["anonymousId"]].append(row)
    out = []
    for anon, rows in devices.items():
        rows.sort(key=lambda r: (r["_at"], r["messageId"]))
        groups: dict[Any, list[dict[str, Any]]] = {}
        last, n = None, 0
        for row in rows:
            if row.get("context.sessionId"):
                groups.setdefault(("t", row["context.sessionId"]), []).append(row)
                continue
            if last is None or row["_at"] - last > timedelta(minutes=30):
                n += 1
            last = row["_at"]
            groups.setdefault(("g", n), []).append(row)
        for group in groups.values():
            chunks: dict[int, list] = defaultdict(list)
            for row in group:
                hours = (row["_at"] - group[0]["_at"]) / timedelta(hours=24)
                chunks[0 if hours == 0 else math.ceil(hours) - 1].append(row)
            for chunk in chunks.values():
                out.append(
                    (
                        anon,
                        chunk[0]["_at"],
                        chunk[-1]["_at"],
                        len(chunk),
                        sum(r["type"] == "page" for r in chunk),
                        _channel(chunk[0]),
                        chunk[0]["context.page.path"],
                        len(chunks) > 1,
                    )
                )
    return sorted(out)


def _sessions(out: Path) -> list[tuple]:
    return sorted(
        (
            s["anonymous_id"],
            parse_time(s["started_at"]),
            parse_time(s["ended_at"]),
            int(s["events"]),
            int(s["page_views"]),
            s["channel"],
            s["landing_path"],
            s["is_split"] == "true",
        )
        for s in read_truth(out, "sessions.csv")
    )


def test_sessions_truth_follows_the_rules_on_the_written_events(small: Dataset) -> None:
    sessions = _sessions(small.out)
    assert sum(s[3] for s in sessions) == len(small.valid["web"])
    assert sessions == _expected_sessions(small.valid["web"])
    for row in read_truth(small.out, "sessions.csv"):
        assert row["started_at"].endswith("Z") and len(row["started_at"]) == 24


def test_planted_session_edges(small: Dataset) -> None:
    sessions = _sessions(small.out)
    by_device: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in small.valid["web"]:
        by_device[row["anonymousId"]].append(row)
    exact, just_over, tracker_pause = [], [], []
    for anon, rows in by_device.items():
        rows.sort(key=lambda r: (r["_at"], r["messageId"]))
        for a, b in pairwise(rows):
            gap = b["_at"] - a["_at"]
            tracked = a.get("context.sessionId")
            if not tracked and gap == timedelta(minutes=30):
                exact.append((anon, a["_at"], b["_at"]))
            if not tracked and gap in (
                timedelta(minutes=30, milliseconds=1),
                timedelta(minutes=30, seconds=1),
            ):
                just_over.append((anon, a["_at"], b["_at"]))
            pause = gap in (timedelta(minutes=45), timedelta(hours=2))  # the planted pauses
            if tracked and tracked == b.get("context.sessionId") and pause:
                tracker_pause.append((anon, a["_at"], b["_at"]))

    def covering(anon: str, a: datetime, b: datetime) -> bool:
        return any(s[0] == anon and s[1] <= a and b <= s[2] for s in sessions)

    assert exact and all(covering(*e) for e in exact)  # 30:00.000 stays in the session
    gaps = {b - a for _, a, b in just_over}
    assert gaps == {timedelta(minutes=30, milliseconds=1), timedelta(minutes=30, seconds=1)}
    for anon, a, b in just_over:  # just over 30 minutes starts a new session
        assert any(s[0] == anon and s[2] == a for s in sessions)
        assert any(s[0] == anon and s[1] == b for s in sessions)
    assert tracker_pause and all(covering(*t) for t in tracker_pause)
    # tracker sessions over 24 h are split; the event at exactly +24 h stays in the first chunk
    split = [s for s in sessions if s[7]]
    assert len({s[0] for s in split}) >= 1 and len(split) >= 2
    for anon in {s[0] for s in split}:
        chunks = sorted(s for s in split if s[0] == anon)
        assert chunks[0][2] - chunks[0][1] == timedelta(hours=24)
        assert {s[5] for s in chunks} == {"Paid Search"}
    # two tracker sessions only minutes apart stay two sessions
    quick = []
    for anon, rows in by_device.items():
        for a, b in pairwise(rows):
            sa, sb = a.get("context.sessionId"), b.get("context.sessionId")
            if sa and sb and sa != sb and b["_at"] - a["_at"] < timedelta(minutes=30):
                quick.append(anon)
    assert quick


def test_channels_are_written_consistently(small: Dataset) -> None:
    channels = {s[5] for s in _sessions(small.out)}
    assert {"Direct", "Organic Search", "Paid Search", "Email", "Referral"} <= channels
    assert len(channels) >= 7
    for row in small.valid["web"]:
        url = row.get("context.page.url") or ""
        if "utm_source=" in url:
            params = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))
            assert params["utm_source"] == row["context.campaign.source"]
            assert params["utm_medium"] == row["context.campaign.medium"]
            assert params["utm_campaign"] == row["context.campaign.name"]
        if row.get("context.campaign.source"):
            assert row.get("context.campaign.medium")


# --- identities ------------------------------------------------------------------------------


def _links(ds: Dataset, hubs: set[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Identifiers that co-occur on a usable row (junk and hub values left out)."""
    groups = []
    for source, rows in ds.valid.items():
        for row in rows:
            if source == "web":
                fields = [
                    ("anonymous_id", row.get("anonymousId")),
                    ("user_id", row.get("userId")),
                    ("email", row.get("traits.email")),
                ]
            elif source == "crm":
                fields = [
                    ("contact_id", row["contact_id"]),
                    ("user_id", row.get("user_id")),
                    ("email", row["email"]),
                ]
            else:
                fields = [("email", row["email"])]
            ids = []
            for kind, value in fields:
                if value is None:
                    continue
                value = str(value).strip()
                value = value.lower() if kind == "email" else value
                if value.lower() not in JUNK and (kind, value) not in hubs:
                    ids.append((kind, value))
            groups.append(ids)
    return groups


def test_identity_truth_is_exactly_resolvable_from_the_files(small: Dataset) -> None:
    assert_identities_resolve(small)


def assert_identities_resolve(ds: Dataset) -> None:
    """Linking the identifiers that co-occur on usable rows gives exactly the planted persons."""
    hubs = {(h["identifier_type"], h["identifier_value"]) for h in read_truth(ds.out, "hubs.csv")}
    truth: dict[tuple[str, str], str] = {}
    for r in read_truth(ds.out, "identifiers.csv"):
        key = (r["identifier_type"], r["identifier_value"])
        assert key not in truth, f"{key} belongs to two persons"
        truth[key] = r["person_id"]
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for ids in _links(ds, hubs):
        for a in ids:
            find(a)
        for a, b in pairwise(ids):
            parent[find(a)] = find(b)
    assert set(parent) == set(truth)  # every identifier used is in the truth, and no more
    components: dict[tuple[str, str], set[str]] = defaultdict(set)
    persons: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for key, pid in truth.items():
        components[find(key)].add(pid)
        persons[pid].add(find(key))
    assert all(len(p) == 1 for p in components.values()), "an identifier links two persons"
    assert all(len(c) == 1 for c in persons.values()), "a person's identifiers do not connect"
    anon_ids = {v for t, v in truth if t == "anonymous_id"} | {v for t, v in hubs}
    assert {s[0] for s in _sessions(ds.out)} <= anon_ids


def test_hubs_and_junk_identifiers(small: Dataset) -> None:
    hubs = read_truth(small.out, "hubs.csv")
    assert {(h["identifier_type"], h["persons"]) for h in hubs} == {
        ("anonymous_id", "3"),
        ("email", "3"),
    }
    shared = next(h["identifier_value"] for h in hubs if h["identifier_type"] == "anonymous_id")
    users = {r["userId"] for r in small.valid["web"] if r["anonymousId"] == shared}
    assert len(users) == 3 and None not in users
    mailbox = next(h["identifier_value"] for h in hubs if h["identifier_type"] == "email")
    assert mailbox == "support@acme-corp.example"
    contacts = [r for r in small.valid["crm"] if r["email"].strip().lower() == mailbox]
    assert len({r["contact_id"] for r in contacts}) == 3
    assert all(r["user_id"] for r in contacts)
    junk_users = {r["userId"] for r in small.valid["web"] if r.get("userId") in JUNK}
    assert junk_users == {"null", "undefined", "0", "unknown"}
    junk_traits = {
        r.get("traits.email") or ""
        for r in small.valid["web"]
        if r["type"] == "identify" and (r.get("traits.email") or "").strip().lower() in JUNK
    }
    assert junk_traits == {"test@example.com", "null", ""}
    for row in small.valid["web"]:
        assert row["anonymousId"] not in JUNK


# --- people, orders and journeys -------------------------------------------------------------


def test_people_orders_and_journeys(small: Dataset) -> None:
    people = {p["person_id"]: p for p in read_truth(small.out, "people.csv")}
    assert len(people) == SMALL["customers"]
    kinds = {p["kind"] for p in people.values()}
    assert {"web", "web_crm", "web_email", "web_crm_email", "crm_only", "email_only"} <= kinds
    orders = read_truth(small.out, "orders.csv")
    completed = [
        r for r in small.valid["web"] if r["type"] == "track" and r["event"] == "Order Completed"
    ]
    assert {o["order_id"] for o in orders} == {r["properties.order_id"] for r in completed}
    per_person: dict[str, int] = defaultdict(int)
    for o in orders:
        per_person[o["person_id"]] += 1
    assert any(n >= 2 for n in per_person.values()), "no repeat buyer"
    won = len([r for r in small.valid["crm"] if r["event_type"] == "deal_won"])
    assert sum(int(p["orders"]) for p in people.values()) == len(orders) + won
    journeys: dict[str, dict[str, str]] = defaultdict(dict)
    for j in read_truth(small.out, "journeys.csv"):
        journeys[j["person_id"]][j["stage"]] = j["first_at"]
    for pid, person in people.items():
        stages = journeys[pid]
        assert stages["awareness"] == person["first_touch_at"]
        assert all(stages["awareness"] <= at for at in stages.values())
        if "retention" in stages:
            assert int(person["orders"]) >= 2 and stages["purchase"] <= stages["retention"]
        assert ("purchase" in stages) == (int(person["orders"]) > 0)
    assert {s for j in journeys.values() for s in j} == {
        "awareness", "consideration", "decision", "purchase", "retention", "advocacy",
    }  # fmt: skip
    web_people = [p for p in people.values() if p["kind"].startswith("web")]
    assert all(p["acquisition_channel"] for p in web_people)


def test_summary_counts(small: Dataset) -> None:
    summary = small.summary
    assert summary["persons"] == SMALL["customers"]
    assert summary["events"] == {s: len(rows) for s, rows in small.valid.items()}
    assert summary["duplicates"] == len(small.dups)
    on_disk = sorted(str(p.relative_to(small.out)) for p in small.out.rglob("*") if p.is_file())
    assert on_disk == sorted(summary["files"])


def test_rejects_populations_too_small_for_the_edge_cases(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, customers=10)
    with pytest.raises(ValueError):
        generate(tmp_path, customers=100, days=3)


# --- the committed sample --------------------------------------------------------------------


def test_default_sample_fits_the_size_budget(tmp_path: Path) -> None:
    summary = generate(tmp_path, 2000, 90, 42, date(2026, 7, 1))
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    assert size < 4_500_000
    assert sum(p.stat().st_blocks * 512 for p in files) < 4_500_000  # allocated on disk
    assert summary["bytes"] == size
    assert 30_000 <= summary["events"]["web"] <= 80_000


# --- shards and the daily layout -------------------------------------------------------------

SHARDED = {"customers": 240, "days": 10, "seed": 11, "shard_size": 80}  # 3 shards of 80
LAYOUTS = [("weekly", None), ("daily", "jsonl.gz"), ("daily", "parquet")]


class Sharded(Dataset):
    def __init__(self, out: Path, layout: str, file_format: str | None) -> None:
        self.layout, self.file_format = layout, file_format
        summary = generate(out, layout=layout, file_format=file_format, workers=2, **SHARDED)
        super().__init__(out, summary)


@pytest.fixture(scope="module", params=LAYOUTS, ids=lambda p: p[1] or p[0])
def sharded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Sharded:
    layout, file_format = request.param
    return Sharded(tmp_path_factory.mktemp(f"sharded-{file_format or layout}"), layout, file_format)


def _gzip_members(path: Path) -> list[bytes]:
    data, members = path.read_bytes(), []
    while data:
        member = zlib.decompressobj(wbits=31)
        members.append(member.decompress(data))
        data = member.unused_data
    return members


def test_one_worker_writes_the_same_bytes_as_two(sharded: Sharded, tmp_path: Path) -> None:
    layout, file_format = sharded.layout, sharded.file_format
    generate(tmp_path, layout=layout, file_format=file_format, workers=1, **SHARDED)
    assert sharded.summary["shards"] == 3
    assert _tree(tmp_path) == _tree(sharded.out)


def _period(layout: str, at: datetime) -> str:
    year, week, _ = at.isocalendar()
    return at.date().isoformat() if layout == "daily" else f"{year}-W{week:02d}"


def test_one_file_per_source_and_period(sharded: Sharded) -> None:
    start = datetime(2026, 7, 1, tzinfo=UTC)
    periods = {_period(sharded.layout, start + timedelta(days=d)) for d in range(SHARDED["days"])}
    resent = {(name, row) for _, name, row, _ in sharded.dups}  # web: re-sent in a later file
    seen = set()
    for name, rows in sharded.files.items():
        source, file = name.split("/")
        period, suffix = file.split(".", 1)
        assert period in periods and (source, period) not in seen, name
        seen.add((source, period))
        if sharded.file_format:
            assert suffix == sharded.file_format, name
        usable = [
            r
            for n, r in enumerate(rows, start=1)
            if not bad_reason(source, r) and (name, n) not in resent
        ]
        stamp = "occurred_at" if source == "crm" else "timestamp"
        assert {_period(sharded.layout, parse_time(r[stamp])) for r in usable} == {period}
    web = sorted((sharded.out / "web").iterdir())
    assert sharded.layout == "weekly" or len(web) == SHARDED["days"]
    if sharded.file_format == "jsonl.gz":  # each shard appended one gzip member
        assert {len(_gzip_members(p)) for p in web} == {3}
    if sharded.file_format == "parquet":  # the shards' parts merged into one row group
        assert {pq.ParquetFile(p).metadata.num_row_groups for p in web} == {1}


def test_sharded_bad_rows_and_duplicates_truth_points_at_the_rows(sharded: Sharded) -> None:
    bad = {
        (r["source"], r["file"], int(r["row"]), r["reason"])
        for r in read_truth(sharded.out, "bad_rows.csv")
    }
    dups = {
        (r["source"], r["file"], int(r["row"]), r["event_id"])
        for r in read_truth(sharded.out, "duplicates.csv")
    }
    assert bad == sharded.bad and dups == sharded.dups
    assert (sharded.summary["bad_rows"], sharded.summary["duplicates"]) == (len(bad), len(dups))
    reasons = {reason for s, _, _, reason in bad if s == "web"}
    json_lines = sharded.file_format != "parquet"  # Parquet cannot hold a broken JSON line
    assert reasons == {"bad_timestamp", "missing_id", "junk_identifiers"} | (
        {"invalid_json"} if json_lines else set()
    )
    if sharded.file_format == "jsonl.gz":  # rows of later shards are numbered after the earlier
        first_part = {
            name: _gzip_members(sharded.out / name)[0].count(b"\n") for name in sharded.files
        }
        assert any(row > first_part[name] for _, name, row, _ in bad | dups)


def test_sharded_row_counts_add_up(sharded: Sharded) -> None:
    summary = sharded.summary
    assert summary["persons"] == SHARDED["customers"]
    assert summary["events"] == {s: len(sharded.valid[s]) for s in ("web", "crm", "email")}
    rows = sum(len(rows) for rows in sharded.files.values())
    assert rows == sum(summary["events"].values()) + summary["bad_rows"] + summary["duplicates"]
    on_disk = sorted(str(p.relative_to(sharded.out)) for p in sharded.out.rglob("*") if p.is_file())
    assert on_disk == sorted(summary["files"])  # no parts left behind
    people = [p["person_id"] for p in read_truth(sharded.out, "people.csv")]
    assert sorted(people) == [f"p{n:05d}" for n in range(1, SHARDED["customers"] + 1)]


def test_no_identifier_links_persons_of_two_shards(sharded: Sharded) -> None:
    assert_identities_resolve(sharded)
    # ids that are not identifiers are unique across shards too
    orders = [o["order_id"] for o in read_truth(sharded.out, "orders.csv")]
    assert len(orders) == len(set(orders))
    deals: dict[str, set[str]] = defaultdict(set)
    for row in sharded.valid["crm"]:
        if row.get("deal_id"):
            deals[row["deal_id"]].add(row["contact_id"])
    assert deals and all(len(contacts) == 1 for contacts in deals.values())


def test_hubs_merge_across_shards(sharded: Sharded) -> None:
    hubs = read_truth(sharded.out, "hubs.csv")
    # one shared device per shard; the support mailbox is shared by all shards
    assert sorted((h["identifier_type"], h["persons"]) for h in hubs) == [
        ("anonymous_id", "3"), ("anonymous_id", "3"), ("anonymous_id", "3"), ("email", "9"),
    ]  # fmt: skip
    mailbox = [r for r in sharded.valid["crm"] if r["email"].strip().lower() == SUPPORT_MAILBOX]
    assert len({r["contact_id"] for r in mailbox}) == 9


def test_sharded_sessions_truth_follows_the_rules(sharded: Sharded) -> None:
    assert _sessions(sharded.out) == _expected_sessions(sharded.valid["web"])


def test_shard_sizes() -> None:
    assert sizes(2000, SHARD_SIZE) == [2000]
    assert sizes(240, 80) == [80, 80, 80]
    assert sizes(250, 80) == [63, 63, 62, 62]
    assert all(min(sizes(n, 80)) >= 40 for n in range(40, 500))


def test_rejects_bad_layout_arguments(tmp_path: Path) -> None:
    for kwargs in (
        {"layout": "hourly"},
        {"file_format": "parquet"},  # the weekly layout mixes the formats
        {"layout": "daily", "file_format": "csv"},
        {"workers": 0},
        {"shard_size": 79},
    ):
        with pytest.raises(ValueError):
            generate(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("sharded", [("daily", "jsonl.gz")], ids=["jsonl.gz"], indirect=True)
def test_the_pipeline_finds_the_truth_planted_across_shards(
    sharded: Sharded, tmp_path: Path
) -> None:
    pipeline = Pipeline(tmp_path)
    pipeline.inbox = sharded.out
    pipeline.run()
    hubs = {
        (h["identifier_type"], published(h["identifier_type"], h["identifier_value"]),
         int(h["persons"]))
        for h in read_truth(sharded.out, "hubs.csv")
    }  # fmt: skip
    found = "select identifier_type, identifier_value, customers_joined from marts.identity_hubs"
    assert set(pipeline.query(found)) == hubs
    customer = dict(
        ((t, v), c)
        for t, v, c in pipeline.query(
            "select identifier_type, identifier_value, customer_id from marts.customer_identifiers"
        )
    )
    persons: dict[str, set[str]] = defaultdict(set)
    for row in read_truth(sharded.out, "identifiers.csv"):
        key = row["identifier_type"], published(row["identifier_type"], row["identifier_value"])
        persons[customer[key]].add(row["person_id"])
    assert len(persons) == SHARDED["customers"] and all(len(p) == 1 for p in persons.values())
    quarantined = set(pipeline.query('select source, file, "row" from meta.quarantine'))
    assert quarantined == {(s, f, r) for s, f, r, _ in sharded.bad}
    assert set(pipeline.query('select source, file, "row", event_id from meta.duplicates')) == (
        sharded.dups
    )
