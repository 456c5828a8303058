"""Sessionization rules, each on a hand-made device whose sessions were worked out by hand."""

from __future__ import annotations

import hashlib

import pytest
from conftest import Pipeline, web, write_jsonl

DAY = 86400

# device -> events as (message id, seconds after T0, extra fields)
CASES = {
    "gap-29m59s": [("a1", 0, {}), ("a2", 1799, {})],
    "gap-30m00s": [("b1", 0, {}), ("b2", 1800, {})],
    "gap-30m01s": [("c1", 0, {}), ("c2", 1801, {})],
    "gap-30m00.001s": [("d1", 0, {}), ("d2", 1800.001, {})],
    "tracker-2h-gap": [("e1", 0, {"session": "S1"}), ("e2", 7200, {"session": "S1"})],
    "tracker-exactly-24h": [("f1", 0, {"session": "L1"}), ("f2", DAY, {"session": "L1"})],
    "tracker-over-24h": [
        ("g1", 0, {"session": "L2"}),
        ("g2", 3600, {"session": "L2"}),
        ("g3", DAY + 0.001, {"session": "L2"}),
        ("g4", DAY + 3600, {"session": "L2"}),
    ],
    "bounce": [("h1", 0, {})],
    "two-fast-pages": [("i1", 0, {}), ("i2", 5, {})],
    "ten-seconds": [("j1", 0, {}), ("j2", 10, {"type": "track", "event": "Product Viewed"})],
    "eleven-seconds": [("k1", 0, {}), ("k2", 11, {"type": "track", "event": "Product Viewed"})],
    "conversion": [("l1", 0, {"type": "track", "event": "Order Completed"})],
}

# device -> (events, page views, is_split, is_engaged) of each session, in start order
EXPECTED = {
    "gap-29m59s": [(2, 2, False, True)],
    "gap-30m00s": [(2, 2, False, True)],
    "gap-30m01s": [(1, 1, False, False), (1, 1, False, False)],
    "gap-30m00.001s": [(1, 1, False, False), (1, 1, False, False)],
    "tracker-2h-gap": [(2, 2, False, True)],
    "tracker-exactly-24h": [(2, 2, False, True)],
    "tracker-over-24h": [(2, 2, True, True), (2, 2, True, True)],
    "bounce": [(1, 1, False, False)],
    "two-fast-pages": [(2, 2, False, True)],
    "ten-seconds": [(2, 1, False, False)],
    "eleven-seconds": [(2, 1, False, True)],
    "conversion": [(1, 0, False, True)],
}


SHOES = "https://shop.example.com/shoes?utm_source=news&utm_medium=email"
# one session: its landing is its first event's page, whatever the later ones carry; its revenue
# is that of its conversion events only (a cart's revenue on 'Checkout Started' is no sale)
LANDING = [
    web("o1", 0, anon="landing", url=SHOES, referrer="https://mail.example.org/"),
    web("o2", 60, anon="landing", url="https://shop.example.com/cart", referrer=SHOES,
        campaign={"source": "later", "medium": "cpc"}),
    web("o3", 120, anon="landing", type="track", event="Checkout Started",
        properties={"revenue": 99.0}),
    web("o4", 180, anon="landing", type="track", event="Order Completed",
        properties={"revenue": 30.0}),
]  # fmt: skip


@pytest.fixture(scope="module")
def sessions_run(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    pipeline = Pipeline(tmp_path_factory.mktemp("sessions"))
    records = [
        web(mid, seconds, anon=device, **extra)
        for device, events in CASES.items()
        for mid, seconds, extra in events
    ]
    # one user on two devices: two sessions at overlapping times, never merged
    records += [
        web("m1", 0, anon="laptop", user="u-two"),
        web("m2", 60, anon="phone", user="u-two"),
    ]
    # an event with only a user id is sessionized on the device 'user:<id>'
    records.append(web("n1", 0, user="u-only"))
    records += LANDING
    write_jsonl(pipeline.inbox / "web" / "events.jsonl", records)
    pipeline.run()
    return pipeline


def sessions_of(pipeline: Pipeline, device: str) -> list[tuple[int, int, bool, bool]]:
    return pipeline.query(
        "select events, page_views, is_split, is_engaged from marts.sessions "
        "where device_id = ? order by started_at",
        [device],
    )


@pytest.mark.parametrize("device", sorted(EXPECTED))
def test_session_boundaries_and_engagement(sessions_run: Pipeline, device: str) -> None:
    assert sessions_of(sessions_run, device) == EXPECTED[device]


def test_bounce_is_the_opposite_of_engaged(sessions_run: Pipeline) -> None:
    assert (
        sessions_run.scalar("select count(*) from marts.sessions where is_bounce = is_engaged") == 0
    )


def test_sessions_never_span_devices(sessions_run: Pipeline) -> None:
    rows = sessions_run.query(
        "select device_id, customer_id from marts.sessions where device_id in ('laptop', 'phone')"
    )
    assert len(rows) == 2
    assert rows[0][1] == rows[1][1]  # one customer, two devices, two sessions


def test_user_only_events_get_their_own_device(sessions_run: Pipeline) -> None:
    assert sessions_of(sessions_run, "user:u-only") == [(1, 1, False, False)]


def test_split_chunk_duration_stays_within_the_maximum(sessions_run: Pipeline) -> None:
    rows = sessions_run.query(
        "select duration_seconds from marts.sessions where device_id = 'tracker-over-24h' "
        "order by started_at"
    )
    assert rows == [(3600.0,), (3599.999,)]


def test_session_id_derives_from_device_and_first_event(sessions_run: Pipeline) -> None:
    expected = "ses_" + hashlib.md5(b"gap-30m01s|c2").hexdigest()[:16]
    ids = sessions_run.query(
        "select session_id from marts.sessions where device_id = ? order by started_at",
        ["gap-30m01s"],
    )
    assert ids[1] == (expected,)


def test_late_event_in_a_new_file_joins_the_right_session(tmp_path) -> None:
    pipeline = Pipeline(tmp_path)
    write_jsonl(pipeline.inbox / "web" / "day1.jsonl", [web("c1", 0, "d"), web("c2", 1801, "d")])
    pipeline.run()
    assert sessions_of(pipeline, "d") == [(1, 1, False, False), (1, 1, False, False)]
    # a late event at 15:00 closes both gaps to under 30 minutes: one session of three events
    write_jsonl(pipeline.inbox / "web" / "day2.jsonl", [web("c3", 900, "d")])
    pipeline.run()
    assert sessions_of(pipeline, "d") == [(3, 3, False, True)]


def test_inactivity_timeout_is_configurable(tmp_path) -> None:
    pipeline = Pipeline(tmp_path)
    pipeline.configure("sessions:\n  inactivity_timeout: 10m\n")
    write_jsonl(pipeline.inbox / "web" / "e.jsonl", [web("x1", 0, "d"), web("x2", 601, "d")])
    pipeline.run()
    assert sessions_of(pipeline, "d") == [(1, 1, False, False), (1, 1, False, False)]


def test_landing_is_the_first_event_and_revenue_is_the_conversions(sessions_run: Pipeline) -> None:
    assert sessions_run.query(
        "select events, page_views, conversions, revenue, landing_page_url, landing_page_path,"
        " referrer, campaign_source, traffic_source, traffic_medium"
        " from marts.sessions where device_id = 'landing'"
    ) == [(4, 2, 1, 30.0, SHOES, "/shoes", "https://mail.example.org/", None, "news", "email")]
