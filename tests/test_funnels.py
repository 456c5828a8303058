"""Funnel rules on hand-made customers, each answer worked out by hand.

Every customer is one device; `A`, `B`, `C` are track events, `X` is the exclusion event, `Z`
an unrelated event. Times are seconds after T0 unless a case gives its own timestamps.
"""

from __future__ import annotations

import pytest
from conftest import CRM_COLUMNS, T0, Pipeline, crm, web, write_csv, write_jsonl

T0_NAIVE = T0.replace(tzinfo=None)

CONFIG = """
funnels:
  - {name: abc, window: 1h, steps: [{event: A}, {event: B}, {event: C}]}
  - {name: abc_strict, window: 1h, order: strict, steps: [{event: A}, {event: B}, {event: C}]}
  - {name: abc_any, window: 1h, order: unordered, steps: [{event: A}, {event: B}, {event: C}]}
  - {name: aa, window: 1h, steps: [{event: A}, {event: A}]}
  - name: excl
    window: 1h
    steps: [{event: A}, {event: B}, {event: C}]
    exclusions: [{event: X, between: [1, 2]}]
  - {name: ab_2h, window: 2h, steps: [{event: A}, {event: B}]}
  - {name: ab_session, window: 2h, count_by: session, steps: [{event: A}, {event: B}]}
"""

CASES: dict[str, list[tuple[str, float]]] = {
    "boundary-in": [("A", 0), ("B", 3600)],  # exactly the window: inside
    "boundary-out": [("A", 0), ("B", 3601)],
    "reanchor": [("A", 0), ("A", 3000), ("B", 3700), ("C", 3800)],
    "strict-broken": [("A", 0), ("Z", 10), ("B", 20), ("C", 30)],
    "strict-ok": [("A", 0), ("B", 10), ("C", 20)],
    "reversed": [("C", 0), ("B", 10), ("A", 20)],
    "repeat": [("A", 0), ("A", 10)],
    "single-a": [("A", 0)],
    "excluded": [("A", 0), ("X", 5), ("B", 10), ("C", 20)],
    "excluded-then-ok": [("A", 0), ("X", 5), ("A", 100), ("B", 110), ("C", 120)],
    "excluded-unreached": [("A", 0), ("X", 5)],
    "exclusion-after": [("A", 0), ("B", 10), ("X", 15), ("C", 20)],
    "open": [("A", 99000)],  # its window is still open at the latest event (100000)
    "closed": [("A", 0)],
    "two-sessions": [("A", 0), ("B", 4000)],  # 66:40 apart: two sessions
    "clock": [("Tick", 100000)],  # the latest event in the warehouse
}
# Daylight saving starts in Europe on 2026-03-29 at 02:00 (CET -> CEST): 01:50 and 03:40 on the
# wall clock are 50 minutes apart, inside a 1h window.
DST = [("A", "2026-03-29T01:50:00+01:00"), ("B", "2026-03-29T03:40:00+02:00")]

# furthest step per funnel; None = not in the funnel (no attempt, or every attempt voided)
EXPECTED = {
    #                     abc strict any aa excl ab_2h
    "boundary-in":        (2, 2, 2, 1, 2, 2),
    "boundary-out":       (1, 1, 1, 1, 1, 2),
    "reanchor":           (3, 3, 3, 2, 3, 2),
    "strict-broken":      (3, 1, 3, 1, 3, 2),
    "strict-ok":          (3, 3, 3, 1, 3, 2),
    "reversed":           (1, 1, 3, 1, 1, 1),
    "repeat":             (1, 1, 1, 2, 1, 1),
    "single-a":           (1, 1, 1, 1, 1, 1),
    "excluded":           (3, 1, 3, 1, None, 2),
    "excluded-then-ok":   (3, 3, 3, 2, 3, 2),
    "excluded-unreached": (1, 1, 1, 1, None, 1),
    "exclusion-after":    (3, 2, 3, 1, 3, 2),
    "open":               (1, 1, 1, 1, 1, 1),
    "closed":             (1, 1, 1, 1, 1, 1),
    "two-sessions":       (1, 1, 1, 1, 1, 2),
    "dst":                (2, 2, 2, 1, 2, 2),
}  # fmt: skip
FUNNELS = ("abc", "abc_strict", "abc_any", "aa", "excl", "ab_2h")


def track(message_id: str, seconds: float, device: str, event: str) -> dict:
    return web(message_id, seconds, anon=device, type="track", event=event)


def run_cases(pipeline: Pipeline, cases: dict[str, list[tuple[str, float]]]) -> None:
    """One device per case, its (event, seconds after T0) tracks in order; then run."""
    write_jsonl(
        pipeline.inbox / "web" / "e.jsonl",
        [
            track(f"{d}-{i}", t, d, e)
            for d, steps in cases.items()
            for i, (e, t) in enumerate(steps)
        ],
    )
    pipeline.run()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    pipeline = Pipeline(tmp_path_factory.mktemp("funnels"))
    pipeline.configure(CONFIG)
    events = [
        track(f"{device}-{i}", seconds, device, event)
        for device, steps in CASES.items()
        for i, (event, seconds) in enumerate(steps)
    ]
    events += [
        {**track(f"dst-{i}", 0, "dst", event), "timestamp": stamp}
        for i, (event, stamp) in enumerate(DST)
    ]
    write_jsonl(pipeline.inbox / "web" / "events.jsonl", events)
    pipeline.run()
    return pipeline


def furthest(run: Pipeline, funnel: str) -> dict[str, int]:
    rows = run.query(
        """
        select i.identifier_value, u.furthest_step
        from intermediate.int_funnels__units as u
        inner join marts.customer_identifiers as i on i.customer_id = u.unit_id
        where u.funnel = ? and i.identifier_type = 'anonymous_id'
        """,
        [funnel],
        work=True,
    )
    return dict(rows)


@pytest.mark.parametrize("funnel", FUNNELS)
def test_furthest_step_per_customer(run: Pipeline, funnel: str) -> None:
    column = FUNNELS.index(funnel)
    expected = {
        device: steps[column] for device, steps in EXPECTED.items() if steps[column] is not None
    }
    assert furthest(run, funnel) == expected


def test_step_counts_dropped_and_in_progress(run: Pipeline) -> None:
    rows = run.query(
        "select step_index, step_name, customers, dropped, in_progress, conversion_rate,"
        " overall_conversion_rate from marts.funnel_steps"
        " where funnel = 'abc' and breakdown = 'all' order by step_index"
    )
    # 16 customers did A; 8 reached B, 6 reached C. At B, 'open' is still in its window: in
    # progress; the 7 other customers stuck at A dropped. At C, boundary-in and dst dropped.
    assert rows == [
        (1, "A", 16, 0, 0, 1.0, 1.0),
        (2, "B", 8, 7, 1, 0.5, 0.5),
        (3, "C", 6, 2, 0, 0.75, 0.375),
    ]


def test_time_to_convert(run: Pipeline) -> None:
    # A -> B in the representative attempt (the earliest reaching the furthest step) of the 8
    # customers at B: boundary-in 3600, reanchor 700 (its second attempt), strict-broken 20,
    # strict-ok 10, excluded 10, excluded-then-ok 110 (its first attempt already reaches C),
    # exclusion-after 10, dst 3000. Sorted: 10 10 10 20 110 700 3000 3600: median 65.
    rows = run.query(
        "select median_seconds_to_convert from marts.funnel_steps"
        " where funnel = 'abc' and breakdown = 'all' and step_index = 2"
    )
    assert rows == [(65.0,)]


def test_session_funnel_counts_sessions(run: Pipeline) -> None:
    # Units are sessions with an A (30-minute inactivity rule). Gaps over 30 minutes split
    # boundary-in, boundary-out, two-sessions and dst (50 min) into an A session and a B
    # session, and reanchor into [A] and [A, B, C]: 17 sessions with an A. Those with a B after
    # it: reanchor's second, strict-broken, strict-ok, excluded, excluded-then-ok,
    # exclusion-after: 6. (By customer, ab_2h, 10 customers reach B.)
    rows = run.query(
        "select step_index, customers from marts.funnel_steps"
        " where funnel = 'ab_session' and breakdown = 'all' order by step_index"
    )
    assert rows == [(1, 17), (2, 6)]


def test_dropoff_names_the_last_event_before_leaving(run: Pipeline) -> None:
    # at C (step 3) boundary-in dropped after B; dst after B
    rows = run.query(
        "select value, customers, share from marts.funnel_dropoff"
        " where funnel = 'abc' and step_index = 3 and dimension = 'event'"
    )
    assert rows == [("B", 2, 1.0)]


def test_step_windows_are_exact_not_greedy(tmp_path) -> None:
    """B within 10 minutes of A, C within 10 minutes of B, all within the hour."""
    pipeline = Pipeline(tmp_path)
    pipeline.configure(
        "funnels:\n  - name: quick\n    window: 1h\n    steps:\n"
        "      - {event: A}\n      - {event: B, window: 10m}\n      - {event: C, window: 10m}\n"
    )
    cases = {
        # both Bs are within 10 minutes of A; C is 15:40 after the earliest B (too late) but
        # 8:20 after the later one: taking the earliest B would wrongly stop at step 2
        "trap": [("A", 0), ("B", 60), ("B", 500), ("C", 1000)],
        "late": [("A", 0), ("B", 700)],  # B 11:40 after A
        "edge": [("A", 0), ("B", 600), ("C", 1200)],  # exactly 10 minutes each: inside
    }
    run_cases(pipeline, cases)
    assert furthest(pipeline, "quick") == {"trap": 3, "late": 1, "edge": 3}


def test_trends_by_entry_week_and_month(run: Pipeline) -> None:
    # entry = the representative attempt's step 1: dst entered in March (the week of Monday
    # 2026-03-23), the 15 others in the week of Monday 2026-08-03; 6 of those reached C and
    # 'open' is still in its window
    rows = run.query(
        "select period, cast(period_start as varchar), entered, converted, in_progress"
        " from marts.funnel_trends where funnel = 'abc' order by period, period_start"
    )
    assert rows == [
        ("month", "2026-03-01", 1, 0, 0),
        ("month", "2026-08-01", 15, 6, 1),
        ("week", "2026-03-23", 1, 0, 0),
        ("week", "2026-08-03", 15, 6, 1),
    ]


def test_ties_shared_events_and_exact_boundaries(tmp_path) -> None:
    """Events at the same instant follow their event ids; an event fills one step at most; a
    window ending exactly on an event includes it. `abc_all` is `abc` with an exclusion that
    never occurs, so its every attempt is followed (not only the two that decide a customer):
    both must agree."""
    pipeline = Pipeline(tmp_path)
    pipeline.configure(
        "funnels:\n"
        "  - {name: abc, window: 1h, steps: [{event: A}, {event: B}, {event: C}]}\n"
        "  - name: abc_all\n    window: 1h\n    steps: [{event: A}, {event: B}, {event: C}]\n"
        "    exclusions: [{event: Never}]\n"
        "  - name: a_ab\n    window: 1h\n"
        "    steps: [{event: A}, {any_of: [{event: A}, {event: B}]}]\n"
    )
    cases = {
        "tie-ab": [("A", 0), ("B", 0), ("C", 0)],  # one instant, in event id order: A, B, C
        "tie-ba": [("B", 0), ("A", 0)],  # B's id sorts first: B comes before A
        "one-a": [("A", 0)],  # matches both steps of a_ab, fills only step 1
        "two-a": [("A", 0), ("A", 0)],
        # both attempts reach B (the first window closes exactly at it): the earlier one counts
        "edge": [("A", 0), ("A", 100), ("B", 3600)],
        # B is one second out of the first attempt's window: the second attempt counts
        "edge-out": [("A", 0), ("A", 100), ("B", 3601)],
        # the first attempt decides the entry; the later one, at the same step, is still open
        "late-open": [("A", 0), ("B", 10), ("A", 97000), ("B", 97010)],
        "clock": [("Tick", 100000)],  # the latest event in the warehouse
    }
    run_cases(pipeline, cases)

    def units(funnel: str) -> dict[str, tuple[int, float, bool]]:
        rows = pipeline.query(
            """
            select i.identifier_value, u.furthest_step, u.entered_at, u.in_progress
            from intermediate.int_funnels__units as u
            inner join marts.customer_identifiers as i on i.customer_id = u.unit_id
            where u.funnel = ? and i.identifier_type = 'anonymous_id'
            """,
            [funnel],
            work=True,
        )
        return {d: (step, (at - T0_NAIVE).total_seconds(), p) for d, step, at, p in rows}

    expected_abc = {
        "tie-ab": (3, 0, False),
        "tie-ba": (1, 0, False),
        "one-a": (1, 0, False),
        "two-a": (1, 0, False),
        "edge": (2, 0, False),
        "edge-out": (2, 100, False),
        "late-open": (2, 0, True),
    }
    assert units("abc") == expected_abc
    assert units("abc_all") == expected_abc
    assert {d: step for d, (step, _, _) in units("a_ab").items()} == {
        "tie-ab": 2,
        "tie-ba": 1,
        "one-a": 1,
        "two-a": 2,
        "edge": 2,
        "edge-out": 2,
        "late-open": 2,
    }
    # time to convert A -> B in each customer's representative attempt
    seconds = pipeline.query(
        "select median_seconds_to_convert, p90_seconds_to_convert from marts.funnel_steps"
        " where funnel = 'abc' and breakdown = 'all' and step_index = 2"
    )
    # tie-ab 0, late-open 10, edge-out 3501, edge 3600: median 1755.5, p90 3501 + 0.7 * 99
    assert seconds == [(1755.5, pytest.approx(3570.3))]


def test_a_strict_funnel_by_session_skips_events_outside_the_session(tmp_path) -> None:
    """A strict funnel's next event is the unit's: for a customer, any source's; for a session,
    the session's own (CRM and e-mail events are in no session)."""
    pipeline = Pipeline(tmp_path)
    pipeline.configure(
        "funnels:\n"
        "  - {name: ab, window: 1h, order: strict, steps: [{event: A}, {event: B}]}\n"
        "  - name: ab_session\n    window: 1h\n    order: strict\n    count_by: session\n"
        "    steps: [{event: A}, {event: B}]\n"
    )
    write_jsonl(pipeline.inbox / "web" / "e.jsonl", [
        # 'mixed' has a CRM activity between A and B (linked by the e-mail of its identify call)
        web("m-0", 0, "mixed", type="identify", email="m@shop.io"),
        track("m-1", 10, "mixed", "A"),
        track("m-2", 30, "mixed", "B"),
        track("w-1", 10, "web-only", "A"),
        track("w-2", 30, "web-only", "B"),
    ])  # fmt: skip
    write_csv(
        pipeline.inbox / "crm" / "crm.csv",
        CRM_COLUMNS,
        [crm("c-1", 20, "call_logged", email="m@shop.io")],
    )
    pipeline.run()
    rows = pipeline.query(
        "select funnel, step_index, customers from marts.funnel_steps"
        " where breakdown = 'all' and funnel <> 'journey' order by funnel, step_index"
    )
    # by customer the call breaks mixed's A -> B; its session holds only web events, so there
    # B follows A: both sessions reach B
    assert rows == [("ab", 1, 2), ("ab", 2, 1), ("ab_session", 1, 2), ("ab_session", 2, 2)]
