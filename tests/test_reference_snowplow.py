"""Sessions and channels checked against third-party data with known answers: Snowplow's
dbt-snowplow-web 0.15.2 integration tests (160 raw events with labelled edge cases, 18 expected
sessions).

Each Snowplow event becomes one Segment event, the real job runs once, and every expected session
is compared with ours, joined on the tracker session id (`domain_sessionid` = `context.sessionId`).
Where the two models define a value differently, the difference is listed in DEVIATIONS with its
reason; every other value must be exactly equal.

The data stays outside the repository, in the shared folder beside the repository root.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from conftest import Pipeline, write_jsonl

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "snowplow-web-0.15.2"
DATA = REFERENCE / "integration_tests" / "data"
SOURCE_EVENTS = DATA / "source" / "snowplow_web_events.csv"
EXPECTED_SESSIONS = DATA / "expected" / "default" / "snowplow_web_sessions_expected.csv"
QUARANTINED_SESSIONS = DATA / "expected" / "snowplow_web_base_quarantined_sessions_expected.csv"

MKT_COLUMNS = ("mkt_source", "mkt_medium", "mkt_campaign", "mkt_term", "mkt_content")

# Snowplow sessions with a documented difference, named after the edge case they exercise.
LONG_SESSION = "2bfc2c760c3ac434953eefd7903789429c8a5f8171c4b8b26aee93108b77bd35"
UNEXPIRED_SESSION = "d21c000a5953335da6cd125ac349135ae6524b04dd4b107a263dfb1de131b12d"
ROTATING_DEVICE = "540b6c4f7c15de9093e0f4f6cf45a062fba7606ce64558a0b1c5a34d8bb33af5"
DUPE_PAGE_VIEW_ID = "7605342329f0b916a4c1bcd8bddad038988920fb24f74ca9e7ada5d96df32c60"
STRAY_PING = "0b5d421a98dc6af66d7da30840afb1072f518342ca058cef3af20a6e9b30fce8"
PING_ONLY_DAY_1 = "0b0c7bb589ebd041177514f3e43446ca5d4343328936d2f8f12a42b41bf9140d"
PING_ONLY_DAY_3 = "0b0c7bb589ebd041177514f3e43446ca5d4343328936d2f8f12a42b41bf9140e"

# Sessions we build that Snowplow's sessions table leaves out (besides those without any page
# view or page ping, which its page-view-based sessions table never holds).
NOT_IN_SNOWPLOW = {
    # its events were sent more than snowplow__days_late_allowed (3) after they were created
    "7edb1641de77b65c48e43041507678a2ea2ab77382b62575169db6bac8f066fc": "late arriving",
    # its one page view has no page_view_id (web_page context), so Snowplow has no page view
    "e7971181261e72dbc9abe9eb6cdfe9eb7ae86085b2e9b39b7ed1fae2404b74e8": "NULL page_view_id",
}


class Deviation(NamedTuple):
    ours: Any  # our value, where Snowplow's differs
    why: str


# (Snowplow session, attribute) -> our value and why it differs from Snowplow's.
DEVIATIONS: dict[tuple[str, str], Deviation] = {
    # Snowplow drops a session's events more than snowplow__max_session_days (3) after its start
    # (and quarantines the session); we keep them all and cut the visit into 24h chunks.
    (LONG_SESSION, "sessions"): Deviation(10, "10 days of events, cut into 24h chunks"),
    (LONG_SESSION, "ended_at"): Deviation(
        datetime(2021, 3, 11, 21, 42, 15, 543000), "Snowplow stops at 3 days"
    ),
    (LONG_SESSION, "events"): Deviation(11, "Snowplow keeps the 3 events of the first 3 days"),
    (LONG_SESSION, "page_views"): Deviation(4, "Snowplow keeps the 2 of the first 3 days"),
    (UNEXPIRED_SESSION, "sessions"): Deviation(2, "a page view 8 months later: a second chunk"),
    (UNEXPIRED_SESSION, "ended_at"): Deviation(
        datetime(2021, 3, 4, 15, 55, 27, 85000), "Snowplow drops the event 8 months later"
    ),
    (UNEXPIRED_SESSION, "events"): Deviation(2, "Snowplow drops the event 8 months later"),
    (UNEXPIRED_SESSION, "page_views"): Deviation(2, "Snowplow drops the page view 8 months later"),
    # Our sessions are per device; this tracker session rotates through 3 anonymous ids. Rolled
    # up, the three sessions give Snowplow's start, end, counts and landing page exactly.
    (ROTATING_DEVICE, "sessions"): Deviation(3, "one session per device"),
    # Snowplow counts distinct page_view_ids: two page_view events of this session share one.
    # Segment has no page view id: we count page events.
    (DUPE_PAGE_VIEW_ID, "page_views"): Deviation(8, "8 page events, 7 distinct page_view_ids"),
    # No mkt_* here, so Snowplow (which reads no referrer) says Unassigned; GA4 and we read the
    # referrer, www.google.com, a search engine.
    (DUPE_PAGE_VIEW_ID, "channel"): Deviation("Organic Search", "referrer www.google.com"),
    # Sessions holding only a page ping of a page viewed in an earlier session: Snowplow counts
    # the ping's page view (1 page view, starting 5s, its minimum visit length, before the ping);
    # our converter makes a ping a track event, so we count no page view and start at the ping.
    (STRAY_PING, "page_views"): Deviation(0, "a page ping is not a page view"),
    (STRAY_PING, "started_at"): Deviation(datetime(2021, 3, 3, 18, 1, 38, 658000), "ping time"),
    (PING_ONLY_DAY_1, "page_views"): Deviation(0, "a page ping is not a page view"),
    (PING_ONLY_DAY_1, "started_at"): Deviation(datetime(2021, 3, 2, 22, 59, 29, 752000), "ping"),
    (PING_ONLY_DAY_3, "page_views"): Deviation(0, "a page ping is not a page view"),
    (PING_ONLY_DAY_3, "started_at"): Deviation(datetime(2021, 3, 4, 22, 59, 29, 752000), "ping"),
}


def _value(text: str) -> str | None:
    return text if text != "" else None


def _utc(text: str) -> datetime:
    """Snowplow's timestamps are UTC without an offset, as in `2021-03-01 20:39:52.944`."""
    return datetime.fromisoformat(text)


def _iso(text: str) -> str:
    return _utc(text).replace(tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def to_segment(row: dict[str, str]) -> dict[str, Any]:
    """One Snowplow event as one Segment event.

    A `page_view` is a `page`; every other event is a `track` named after what the site tracked:
    a structured event by its action (`se_action`, e.g. `login`), any other by Snowplow's event
    name (`page_ping`, `link_click`, `cmp_visible`, ...). None is one of our conversion events.
    """
    campaign = {
        key: _value(row[column])
        for key, column in (
            ("source", "mkt_source"),
            ("medium", "mkt_medium"),
            ("name", "mkt_campaign"),
            ("term", "mkt_term"),
            ("content", "mkt_content"),
        )
    }
    context: dict[str, Any] = {
        "page": {
            "url": _value(row["page_url"]),
            "path": _value(row["page_urlpath"]),
            "referrer": _value(row["page_referrer"]),
            "title": _value(row["page_title"]),
        }
    }
    if row["domain_sessionid"]:
        context["sessionId"] = row["domain_sessionid"]
    if any(campaign.values()):
        context["campaign"] = campaign
    is_page = row["event"] == "page_view"
    event: dict[str, Any] = {
        "messageId": row["event_id"],
        "type": "page" if is_page else "track",
        "anonymousId": _value(row["domain_userid"]),
        "userId": _value(row["user_id"]),
        "timestamp": _iso(row["derived_tstamp"] or row["collector_tstamp"]),
        "context": context,
    }
    if not is_page:
        event["event"] = _value(row["se_action"]) or row["event_name"]
    return event


def snowplow_channel(row: dict[str, str]) -> str:
    """Snowplow's channel in GA4's terms.

    Snowplow's rule reads only the mkt_* fields, and its Direct needs the literal source
    '(direct)', which no event carries: a session without campaign parameters is Unassigned.
    GA4 (and we) fall back to the referrer: no external referrer is Direct.
    """
    channel = row["default_channel_group"]
    if channel == "Unassigned" and not any(row[c] for c in MKT_COLUMNS):
        return "Direct"
    return channel


# attribute -> Snowplow's value from its expected session row
SNOWPLOW_VALUE: dict[str, Callable[[dict[str, str]], Any]] = {
    "sessions": lambda row: 1,
    "started_at": lambda row: _utc(row["start_tstamp"]),
    "ended_at": lambda row: _utc(row["end_tstamp"]),
    "events": lambda row: int(row["total_events"]),
    "page_views": lambda row: int(row["page_views"]),
    "landing_page_url": lambda row: _value(row["first_page_url"]),
    "referrer": lambda row: _value(row["referrer"]),
    "channel": snowplow_channel,
}

# Our sessions of one tracker session rolled up (more than one when split or across devices):
# counts add up, start and end are the extremes, landing page and channel are the first one's.
OURS_BY_TRACKER_SESSION = """
    select
        tracker_session_id,
        cast(count(*) as bigint) as sessions,
        min(started_at) as started_at,
        max(ended_at) as ended_at,
        cast(sum(events) as bigint) as events,
        cast(sum(page_views) as bigint) as page_views,
        arg_min(landing_page_url, started_at) as landing_page_url,
        arg_min(referrer, started_at) as referrer,
        arg_min(channel, started_at) as channel
    from marts.sessions
    where tracker_session_id is not null
    group by tracker_session_id
"""


class Reference(NamedTuple):
    pipeline: Pipeline
    source: list[dict[str, str]]
    expected: dict[str, dict[str, str]]  # Snowplow's sessions by domain_sessionid
    ours: dict[str, dict[str, Any]]  # ours, rolled up by tracker session id


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    if not SOURCE_EVENTS.is_file():
        pytest.skip(
            f"Snowplow reference data not found at {REFERENCE}: it lives in the shared folder "
            "beside the repository root and is never copied into the repository"
        )
    source = read_csv(SOURCE_EVENTS)
    pipeline = Pipeline(tmp_path_factory.mktemp("snowplow"))
    write_jsonl(pipeline.inbox / "web" / "snowplow.jsonl", [to_segment(r) for r in source])
    pipeline.run()
    expected = {r["domain_sessionid"]: r for r in read_csv(EXPECTED_SESSIONS)}
    columns = ["tracker_session_id", *SNOWPLOW_VALUE]
    ours = {
        row[0]: dict(zip(columns, row, strict=True))
        for row in pipeline.query(OURS_BY_TRACKER_SESSION)
    }
    return Reference(pipeline, source, expected, ours)


def test_every_snowplow_event_is_loaded(reference: Reference) -> None:
    """The converter loses nothing: only Snowplow's repeated event ids are duplicates."""
    repeated = len(reference.source) - len({r["event_id"] for r in reference.source})
    counts = reference.pipeline.query(
        "select rows_read, rows_loaded, rows_quarantined, rows_duplicate from meta.ingested_files"
    )
    assert counts == [(160, 160 - repeated, 0, repeated)]
    assert repeated == 3


def test_we_find_every_snowplow_session(reference: Reference) -> None:
    assert len(reference.expected) == 18
    assert set(reference.expected) - set(reference.ours) == set()


def test_the_sessions_snowplow_leaves_out_are_known(reference: Reference) -> None:
    # Snowplow's sessions table is built from page views (a page ping stands for its page view)
    with_pages = {
        r["domain_sessionid"] for r in reference.source if r["event"] in ("page_view", "page_ping")
    }
    without_pages = {r["domain_sessionid"] for r in reference.source} - with_pages - {""}
    extra = set(reference.ours) - set(reference.expected)
    assert extra == without_pages | set(NOT_IN_SNOWPLOW)
    assert len(without_pages) == 26  # the consent banner tests: consent events only
    assert all(reference.ours[s]["page_views"] == 0 for s in without_pages)


def test_events_without_tracker_session_are_sessionized_by_inactivity(
    reference: Reference,
) -> None:
    # Snowplow drops the one event without a domain_sessionid; we keep it as a one-event visit.
    rows = reference.pipeline.query(
        "select events from marts.sessions where tracker_session_id is null"
    )
    assert rows == [(1,)]


def test_quarantined_sessions_are_the_ones_we_split(reference: Reference) -> None:
    quarantined = {r["session_id"] for r in read_csv(QUARANTINED_SESSIONS)}
    split = {
        row[0]
        for row in reference.pipeline.query(
            "select distinct tracker_session_id from marts.sessions where is_split"
        )
    }
    assert quarantined == {LONG_SESSION}
    # Snowplow quarantines only the long session; the unexpired session's event 8 months later
    # just falls outside its 3-day cap. We cut both: every visit longer than 24h is split.
    assert split == quarantined | {UNEXPIRED_SESSION}


@pytest.mark.parametrize("attribute", list(SNOWPLOW_VALUE))
def test_session_attribute_matches_snowplow(reference: Reference, attribute: str) -> None:
    """Exact equality (timestamps to the millisecond: both sides read derived_tstamp), except
    the listed deviations."""
    want: dict[str, Any] = {}
    for session, row in reference.expected.items():
        deviation = DEVIATIONS.get((session, attribute))
        want[session] = deviation.ours if deviation else SNOWPLOW_VALUE[attribute](row)
    got = {session: reference.ours[session][attribute] for session in reference.expected}
    assert got == want


def test_every_listed_deviation_is_a_real_difference(reference: Reference) -> None:
    """A deviation that Snowplow's value now satisfies must be removed from the list."""
    for (session, attribute), deviation in DEVIATIONS.items():
        snowplow = SNOWPLOW_VALUE[attribute](reference.expected[session])
        assert deviation.ours != snowplow, (session, attribute, deviation.why)
