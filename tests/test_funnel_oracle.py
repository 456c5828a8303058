"""Differential tests of the funnels.

1. Our ordered funnel against ClickHouse's windowFunnel (run in process by chdb) on the same
random events. Steps match distinct events and timestamps are distinct per customer, where both
define the same thing: the furthest step of any chain starting at a step-1 event with every step
within the window of it, in order.
2. Every funnel rule (ordered, strict, step windows, exclusions, occurrence, an event matching
two steps, sessions, ties at one instant) against a plain Python reference that follows every
attempt one by one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import Pipeline, at, web, write_jsonl

from funnel.config import FunnelConfig, load_config
from funnel.funnels import build_attempts
from funnel.models import Model
from funnel.warehouse import prepare, sql_params

WINDOW = 3600
STEPS = ("A", "B", "C", "D")
CONFIG = f"""
funnels:
  - name: oracle
    window: {WINDOW}s
    steps: [{", ".join(f"{{event: {s}}}" for s in STEPS)}]
"""


def random_events(seed: int, customers: int = 300) -> list[tuple[str, int, str]]:
    rng = random.Random(seed)
    events = []
    for c in range(customers):
        n = rng.randint(1, 12)
        # distinct whole seconds within ~3 windows, so boundaries (exactly WINDOW apart) occur
        times = rng.sample(range(0, 3 * WINDOW), n)
        if rng.random() < 0.2 and times:  # plant exact-boundary gaps
            times.append(times[0] + WINDOW)
        for t in sorted(set(times)):
            events.append((f"u{c}", t, rng.choice((*STEPS, "other"))))
    return events


def clickhouse_levels(events: list[tuple[str, int, str]], tmp: Path) -> dict[str, int]:
    path = tmp / "events.csv"
    path.write_text("".join(f"{u},{t},{e}\n" for u, t, e in events))
    conditions = ", ".join(f"e = '{s}'" for s in STEPS)
    chdb = pytest.importorskip("chdb")
    result = chdb.query(
        f"select u, windowFunnel({WINDOW})(toDateTime(t), {conditions}) as level "
        f"from file('{path}', 'CSV', 'u String, t UInt32, e String') group by u",
        "CSV",
    )
    levels = {}
    for line in str(result).strip().splitlines():
        user, level = line.replace('"', "").split(",")
        if int(level) > 0:
            levels[user] = int(level)
    return levels


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ordered_funnel_equals_window_funnel(tmp_path: Path, seed: int) -> None:
    events = random_events(seed)
    pipeline = Pipeline(tmp_path)
    pipeline.configure(CONFIG)
    write_jsonl(
        pipeline.inbox / "web" / "events.jsonl",
        [
            {**web(f"{u}-{t}", 0, anon=u, type="track", event=e), "timestamp": at(t)}
            for u, t, e in events
        ],
    )
    pipeline.run()
    ours = dict(
        pipeline.query(
            """
            select i.identifier_value, u.furthest_step
            from intermediate.int_funnels__units as u
            inner join marts.customer_identifiers as i on i.customer_id = u.unit_id
            where u.funnel = 'oracle' and i.identifier_type = 'anonymous_id'
            """,
            work=True,
        )
    )
    theirs = clickhouse_levels(events, tmp_path)
    assert ours == theirs
    counts = pipeline.query(
        "select customers from marts.funnel_steps"
        " where funnel = 'oracle' and breakdown = 'all' order by step_index"
    )
    expected = [sum(1 for level in theirs.values() if level >= k) for k in range(1, 5)]
    assert [c for (c,) in counts] == expected


# --- Every funnel rule against a plain Python reference ------------------------------------
# The funnel models (step events, attempts, units) run directly on a hand-filled marts.events,
# so random cases are cheap. The events are chosen to hit the rules' edges: many events share a
# timestamp (ordered by source, then event id), one event can match two steps, windows end
# exactly on events, sessions split customers. The reference follows every attempt one by one.

REFERENCE_CONFIG = """
journey:
  window: 60s
  purchase_stage: again
  stages:
    - {name: first, match: [{event: A}]}
    - {name: again, match: [{event: A}, {event: B}], occurrence: 2}
funnels:
  - {name: plain, window: 60s, steps: [{event: A}, {event: B}, {event: C}, {event: D}]}
  - name: shared
    window: 60s
    steps: [{event: A}, {any_of: [{event: A}, {event: B}]}, {event: B}, {event: C}]
  - name: repeat
    window: 90s
    steps: [{event: A}, {event: B, occurrence: 2}, {source: crm, event: C}]
  - name: sessions
    window: 60s
    count_by: session
    steps: [{event: A}, {event: B}, {event: C}]
  - name: excluded
    window: 60s
    steps: [{event: A}, {any_of: [{event: A}, {event: B}]}, {event: C}, {event: D}]
    exclusions: [{event: X, between: [2, 4]}, {event: Z}]
  - name: windowed
    window: 60s
    steps: [{event: A}, {event: B, window: 20s}, {event: C}, {event: D, window: 15s}]
  - {name: strict, window: 60s, order: strict, steps: [{event: A}, {event: B}, {event: C}]}
  - name: unordered
    window: 60s
    order: unordered
    steps: [{event: A}, {any_of: [{event: A}, {event: B}]}, {event: C}]
  - name: strict_windowed
    window: 60s
    order: strict
    steps: [{event: A}, {event: B, window: 5s}, {event: C}]
"""
NAMES = ("A", "A", "B", "B", "C", "D", "X", "Z")
T_BASE = datetime(2026, 8, 3, 9, 0, 0)
EVENT_COLUMNS = (
    "event_id varchar, source varchar, customer_id varchar, session_id varchar, "
    "occurred_at timestamp, event_type varchar, event_name varchar, page_name varchar, "
    "page_url varchar, page_path varchar, page_title varchar, referrer varchar, "
    "campaign_source varchar, campaign_medium varchar, campaign_name varchar, channel varchar, "
    "revenue double, currency varchar, order_id varchar, deal_id varchar, stage varchar, "
    "score integer, email_campaign_id varchar, email_campaign_name varchar, link_url varchar, "
    "properties varchar"
)


@dataclass(frozen=True)
class Event:
    event_id: str
    source: str
    customer: str
    session: str | None
    t: int  # seconds after T_BASE
    name: str


def reference_events(seed: int, customers: int = 80) -> list[Event]:
    rng = random.Random(seed)
    events = []
    for c in range(customers):
        for i in range(rng.randint(1, 20)):
            t = rng.choice((0, 5, 5, 20, 20, 35, 40, 60, 60, 65, 80, 95, 120, 150, 200))
            session = None if rng.random() < 0.1 else f"c{c}-s{t // 100}"
            events.append(
                Event(
                    f"e{rng.randint(0, 99)}-{c}-{i}",
                    rng.choice(("web", "web", "crm")),
                    f"c{c}",
                    session,
                    t,
                    rng.choice(NAMES),
                )
            )
    return events


def _matches(matcher: Any, event: Event) -> bool:
    return (matcher.source is None or matcher.source == event.source) and (
        matcher.event is None or matcher.event == event.name
    )


def reference_units(funnel: Any, events: list[Event], latest: int) -> dict[str, tuple]:
    """unit -> (furthest step, entered second, in progress, step seconds of the representative
    attempt), following every attempt."""
    units: dict[str, list[Event]] = {}
    for e in events:
        unit = e.customer if funnel.count_by == "customer" else e.session
        if unit is not None:
            units.setdefault(unit, []).append(e)
    n_steps = len(funnel.steps)
    results = {}
    for unit, unit_events in units.items():
        ev = sorted(unit_events, key=lambda e: (e.t, e.source, e.event_id))
        steps_of: list[set[int]] = [set() for _ in ev]
        seen = [0] * n_steps
        for i, e in enumerate(ev):
            for k, step in enumerate(funnel.steps):
                if any(_matches(m, e) for m in step.matchers()):
                    seen[k] += 1
                    if seen[k] >= step.occurrence:
                        steps_of[i].add(k + 1)
        exclusions = [
            (i, ex.between or (1, n_steps))
            for i, e in enumerate(ev)
            for ex in funnel.exclusions
            if _matches(ex, e)
        ]
        attempts = []
        for s, e in enumerate(ev):
            if funnel.order == "unordered":
                if steps_of[s]:
                    attempts.append(_unordered_attempt(ev, steps_of, s, funnel.window))
                continue
            if 1 not in steps_of[s]:
                continue
            closes = e.t + funnel.window
            reach, first = {1: [s]}, {1: s}
            for k in range(2, n_steps + 1):
                p = first[k - 1]
                if funnel.order == "strict":
                    later = [p + 1] if p + 1 < len(ev) else []
                else:
                    later = range(p + 1, len(ev))
                found = [q for q in later if k in steps_of[q] and ev[q].t <= closes]
                limit = funnel.steps[k - 1].window
                if limit is not None:
                    found = [
                        q for q in found if any(r < q and ev[q].t <= ev[r].t + limit
                                                for r in reach[k - 1])
                    ]  # fmt: skip
                if not found:
                    break
                reach[k], first[k] = found, min(found)
            voided = any(
                a in first and q > first[a] and (q < first[b] if b in first else ev[q].t <= closes)
                for q, (a, b) in exclusions
            )
            if not voided:
                attempts.append((len(first), e.t, s, closes, [ev[first[k]].t for k in first]))
        if not attempts:
            continue
        furthest = max(a[0] for a in attempts)
        rep = min((a for a in attempts if a[0] == furthest), key=lambda a: (a[1], a[2]))
        open_ = any(a[3] >= latest for a in attempts if a[0] == furthest)
        results[unit] = (furthest, rep[1], furthest < n_steps and open_, rep[4])
    return results


def _unordered_attempt(ev: list[Event], steps_of: list[set[int]], s: int, window: int) -> tuple:
    """From the anchor on, within the window, the k-th distinct step matched is step k; one
    event fills one step, so no more steps than events."""
    closes = ev[s].t + window
    inside = [q for q in range(s, len(ev)) if steps_of[q] and ev[q].t <= closes]
    firsts = sorted((min(q for q in inside if k in steps_of[q]), k)
                    for k in set().union(*(steps_of[q] for q in inside)))  # fmt: skip
    reached = firsts[: len(inside)]
    return (len(reached), ev[s].t, s, closes, [ev[q].t for q, _ in reached])


def funnel_warehouse(
    config: FunnelConfig, events: list[Event], session_customers: dict[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """A warehouse of `events` (and sessions, whose customer is their events' unless given), its
    funnels built."""
    con = duckdb.connect()
    prepare(con, config)
    params = sql_params(config)
    con.execute(f"create table marts.events ({EVENT_COLUMNS})")
    con.executemany(
        "insert into marts.events (event_id, source, customer_id, session_id, occurred_at,"
        " event_type, event_name) values (?, ?, ?, ?, ?, 'track', ?)",
        [
            (e.event_id, e.source, e.customer, e.session, T_BASE + timedelta(seconds=e.t), e.name)
            for e in events
        ],
    )
    con.execute(
        "create table marts.sessions as select session_id, any_value(customer_id) as customer_id"
        " from marts.events where session_id is not null group by session_id"
    )
    for session, customer in (session_customers or {}).items():
        con.execute(
            "update marts.sessions set customer_id = ? where session_id = ?", [customer, session]
        )
    Model("intermediate", "int_funnels__unit_keys").run(con, params)
    Model("intermediate", "int_funnels__step_events").run(con, params)
    build_attempts(con, params)
    Model("intermediate", "int_funnels__units").run(con, params)
    return con


def sql_units(config: FunnelConfig, events: list[Event]) -> dict[str, dict[str, tuple]]:
    con = funnel_warehouse(config, events)
    rows = con.execute(
        """
        select u.funnel, u.unit_id, u.furthest_step, u.entered_at, u.in_progress,
            list(s.occurred_at order by s.step_index)
        from intermediate.int_funnels__units as u
        inner join intermediate.int_funnels__attempt_steps as s on s.attempt_id = u.attempt_id
        group by all
        """
    ).fetchall()
    result: dict[str, dict[str, tuple]] = {}
    for funnel, unit, furthest, entered, in_progress, times in rows:
        seconds = [int((t - T_BASE).total_seconds()) for t in times]
        entered_s = int((entered - T_BASE).total_seconds())
        result.setdefault(funnel, {})[unit] = (furthest, entered_s, in_progress, seconds)
    con.close()
    return result


@pytest.mark.parametrize("seed", range(12))
def test_funnel_sql_equals_reference(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "funnel.yaml"
    path.write_text(REFERENCE_CONFIG, encoding="utf-8")
    config = load_config(path)
    events = reference_events(seed)
    latest = max(e.t for e in events)
    ours = sql_units(config, events)
    for funnel in config.all_funnels():
        assert ours.get(funnel.name, {}) == reference_units(funnel, events, latest), funnel.name


def test_a_session_counts_for_the_session_s_customer(tmp_path: Path) -> None:
    """A session's events may belong to different customers (one attributed through a shared
    identifier); a funnel counted by session counts it for the session's customer."""
    path = tmp_path / "funnel.yaml"
    path.write_text(
        "funnels:\n  - name: in_session\n    window: 60s\n    count_by: session\n"
        "    steps: [{event: A}, {event: B}]\n",
        encoding="utf-8",
    )
    events = [Event("e1", "web", "c1", "s1", 0, "A"), Event("e2", "web", "c2", "s1", 10, "B")]
    con = funnel_warehouse(load_config(path), events, session_customers={"s1": "c2"})
    units = con.execute(
        "select u.unit_id, u.customer_id, u.furthest_step, a.customer_id"
        " from intermediate.int_funnels__units as u"
        " inner join intermediate.int_funnels__attempts as a using (attempt_id)"
        " where u.funnel = 'in_session'"
    ).fetchall()
    assert units == [("s1", "c2", 2, "c2")]
