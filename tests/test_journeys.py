"""Journey stages (matchers, conditions, occurrence), customer journeys, touchpoints and
funnel breakdowns, on hand-made customers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import CRM_COLUMNS, T0, Pipeline, crm, web, write_csv, write_jsonl

DAY = 86400


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    pipeline = Pipeline(tmp_path_factory.mktemp("journeys"))
    pipeline.configure(
        """
funnels:
  - name: ab
    window: 1h
    steps: [{event: A}, {event: B}]
    breakdowns: [acquisition_channel, entry_cohort_month, emails]
"""
    )
    paid = {"source": "google", "medium": "cpc"}
    write_jsonl(pipeline.inbox / "web" / "events.jsonl", [
        # j1 walks the whole journey
        web("j1-0", 0, "j1", "user-j1", type="identify", email="j1@shop.io"),
        web("j1-1", 1, "j1", name="Home"),
        web("j1-2", 60, "j1", name="Pricing"),
        web("j1-3", 120, "j1", type="track", event="Product Added"),
        web("j1-4", 180, "j1", type="track", event="Order Completed"),
        web("j1-5", DAY, "j1", type="track", event="Order Completed"),
        # j2 looks around: 'About' is no consideration page, an NPS of 8 no advocacy
        web("j2-0", 0, "j2", "user-j2", type="identify", email="j2@shop.io"),
        web("j2-1", 1, "j2", name="About"),
        # funnel 'ab' with breakdowns: b1 from paid search, identified; b2 direct
        web("b1-0", 0, "b1", "user-b1", type="identify", email="b1@shop.io", campaign=paid),
        web("b1-1", 10, "b1", type="track", event="A", campaign=paid),
        web("b1-2", 20, "b1", type="track", event="B", campaign=paid),
        web("b2-1", 10, "b2", type="track", event="A"),
        web("t1-0", 30, "t1", "user-t1", type="identify", email="t1@shop.io", campaign=paid),
    ])  # fmt: skip
    write_csv(pipeline.inbox / "crm" / "crm.csv", CRM_COLUMNS, [
        crm("n1", DAY + 60, "nps_response", contact_id="k1", email="j1@shop.io", score="9"),
        crm("n2", DAY + 60, "nps_response", contact_id="k2", email="j2@shop.io", score="8"),
        # t1's first touch is a tie: two CRM activities and a web call at the same instant
        crm("t1-b", 30, "contact_created", contact_id="k3", email="t1@shop.io", channel="Referral"),
        crm("t1-a", 30, "contact_created", contact_id="k3", email="t1@shop.io", channel="Fair"),
    ])  # fmt: skip
    pipeline.run()
    return pipeline


def customer(run: Pipeline, device: str) -> str:
    return run.scalar(
        "select customer_id from marts.customer_identifiers"
        " where identifier_type = 'anonymous_id' and identifier_value = ?",
        [device],
    )


def test_stages_entered_at_their_first_matching_event(run: Pipeline) -> None:
    rows = run.query(
        "select stage, entered_at, event_id from marts.customer_stages"
        " where customer_id = ? order by stage_index",
        [customer(run, "j1")],
    )
    at = [T0 + timedelta(seconds=s) for s in (0, 60, 120, 180, DAY, DAY + 60)]
    assert [(s, t.replace(tzinfo=None), e) for s, t, e in zip(
        ["awareness", "consideration", "decision", "purchase", "retention", "advocacy"],
        at, ["j1-0", "j1-2", "j1-3", "j1-4", "j1-5", "n1"], strict=True,
    )] == rows  # fmt: skip
    assert run.query(
        "select stage from marts.customer_stages where customer_id = ?", [customer(run, "j2")]
    ) == [("awareness",)]


def test_customer_journey_row(run: Pipeline) -> None:
    row = run.query(
        "select acquisition_channel, current_stage, current_stage_index, touchpoints,"
        " touchpoints_before_purchase, sessions_before_purchase, days_to_purchase"
        " from marts.customer_journeys where customer_id = ?",
        [customer(run, "j1")],
    )
    # 4 events before the first order (identify, Home, Pricing, Product Added), one session
    assert row == [("Direct", "advocacy", 6, 7, 4, 1, 180 / DAY)]
    j2 = run.query(
        "select current_stage, first_purchase_at, touchpoints_before_purchase"
        " from marts.customer_journeys where customer_id = ?",
        [customer(run, "j2")],
    )
    assert j2 == [("awareness", None, None)]
    stages = run.scalar(
        "select stage_entered_at ->> 'purchase' from marts.customer_journeys where customer_id = ?",
        [customer(run, "j1")],
    )
    assert stages == "2026-08-03T09:03:00.000"
    # the whole object, its keys in journey order (the same journey always gives the same text)
    assert run.scalar(
        "select stage_entered_at from marts.customer_journeys where customer_id = ?",
        [customer(run, "j1")],
    ) == (
        '{"awareness":"2026-08-03T09:00:00.000","consideration":"2026-08-03T09:01:00.000",'
        '"decision":"2026-08-03T09:02:00.000","purchase":"2026-08-03T09:03:00.000",'
        '"retention":"2026-08-04T09:00:00.000","advocacy":"2026-08-04T09:01:00.000"}'
    )


def test_a_tied_first_touch_is_the_least_source_then_event_id(run: Pipeline) -> None:
    # t1-a, t1-b (CRM) and t1-0 (web) share the first instant: 'crm' sorts before 'web', and
    # 't1-a' before 't1-b', so the acquisition channel is the one the CRM recorded with t1-a
    assert run.query(
        "select first_touch_source, acquisition_channel, first_touch_campaign, first_touch_at,"
        " touchpoints, sessions from marts.customer_journeys where customer_id = ?",
        [customer(run, "t1")],
    ) == [("crm", "Fair", None, (T0 + timedelta(seconds=30)).replace(tzinfo=None), 3, 1)]


def test_touchpoints_follow_one_journey(run: Pipeline) -> None:
    rows = run.query(
        "select touch_index, event_id, stage_reached from marts.touchpoints"
        " where customer_id = ? order by touch_index",
        [customer(run, "j1")],
    )
    assert rows == [
        (1, "j1-0", "awareness"), (2, "j1-1", None), (3, "j1-2", "consideration"),
        (4, "j1-3", "decision"), (5, "j1-4", "purchase"), (6, "j1-5", "retention"),
        (7, "n1", "advocacy"),
    ]  # fmt: skip


def test_tied_touchpoints_follow_source_then_event_id(run: Pipeline) -> None:
    # t1's three events share one instant: the CRM's two first ('crm' < 'web'), t1-a before
    # t1-b; the first of them took t1 into awareness
    assert run.query(
        "select touch_index, event_id, stage_reached from marts.touchpoints"
        " where customer_id = ? order by touch_index",
        [customer(run, "t1")],
    ) == [(1, "t1-a", "awareness"), (2, "t1-b", None), (3, "t1-0", None)]


def test_breakdowns(run: Pipeline) -> None:
    rows = run.query(
        "select breakdown, breakdown_value, step_index, customers from marts.funnel_steps"
        " where funnel = 'ab' order by 1, 2, 3"
    )
    assert rows == [
        ("acquisition_channel", "Direct", 1, 1), ("acquisition_channel", "Direct", 2, 0),
        ("acquisition_channel", "Paid Search", 1, 1),
        ("acquisition_channel", "Paid Search", 2, 1),
        ("all", "all", 1, 2), ("all", "all", 2, 1),
        ("emails", "0", 1, 1), ("emails", "0", 2, 0),  # a customer property (marts.customers)
        ("emails", "1", 1, 1), ("emails", "1", 2, 1),
        ("entry_cohort_month", "2026-08", 1, 2), ("entry_cohort_month", "2026-08", 2, 1),
    ]  # fmt: skip
