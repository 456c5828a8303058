"""Differential test: our ordered funnel against ClickHouse's windowFunnel (run in process by
chdb) on the same random events. Steps match distinct events and timestamps are distinct per
customer, where both define the same thing: the furthest step of any chain starting at a step-1
event with every step within the window of it, in order."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import Pipeline, at, web, write_jsonl

chdb = pytest.importorskip("chdb")

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
