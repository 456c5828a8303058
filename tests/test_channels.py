"""GA4 default channel grouping: one session per case, expected channel worked out by hand
from GA4's published rules (first matching rule in GA4's order wins)."""

from __future__ import annotations

import pytest
from conftest import Pipeline, web, write_jsonl

SITE = "https://shop.example.com/"

# case -> (landing url, referrer, context.campaign, expected (source, medium, channel))
CASES = {
    "direct": (SITE, None, None, ("(direct)", "(none)", "Direct")),
    "internal-referrer": (SITE, SITE + "cart", None, ("(direct)", "(none)", "Direct")),
    "google-organic": (
        SITE, "https://www.google.com/", None, ("google.com", "organic", "Organic Search")
    ),
    "google-uk-organic": (
        SITE, "https://www.google.co.uk/search?q=x", None,
        ("google.co.uk", "organic", "Organic Search"),
    ),
    "paid-search-utm": (
        SITE, None, {"source": "google", "medium": "cpc"}, ("google", "cpc", "Paid Search")
    ),
    "paid-search-gclid": (SITE + "?gclid=abc", None, None, ("google", "cpc", "Paid Search")),
    "paid-search-url-utm": (
        SITE + "?utm_source=bing&utm_medium=cpc", None, None, ("bing", "cpc", "Paid Search")
    ),
    "paid-social": (
        SITE, None, {"source": "facebook", "medium": "paid_social"},
        ("facebook", "paid_social", "Paid Social"),
    ),
    "paid-video": (
        SITE, None, {"source": "youtube", "medium": "cpv"}, ("youtube", "cpv", "Paid Video")
    ),
    "organic-social-facebook": (
        SITE, "https://l.facebook.com/", None, ("l.facebook.com", "referral", "Organic Social")
    ),
    "organic-social-tco": (SITE, "https://t.co/abc", None, ("t.co", "referral", "Organic Social")),
    "email": (
        SITE, None, {"source": "newsletter", "medium": "email"}, ("newsletter", "email", "Email")
    ),
    "referral": (
        SITE, "https://blog.example.org/post", None,
        ("blog.example.org", "referral", "Referral"),
    ),
    "display": (
        SITE, None, {"source": "adnetwork", "medium": "display"},
        ("adnetwork", "display", "Display"),
    ),
    "affiliate": (
        SITE, None, {"source": "partner", "medium": "affiliate"},
        ("partner", "affiliate", "Affiliates"),
    ),
    "paid-shopping-campaign": (
        SITE, None, {"source": "newsletter", "medium": "cpc", "name": "spring-shopping"},
        ("newsletter", "cpc", "Paid Shopping"),
    ),
    "cross-network": (
        SITE, None, {"source": "google", "medium": "cpc", "name": "pmax cross-network"},
        ("google", "cpc", "Cross-network"),
    ),
    "paid-other": (SITE, None, {"source": "foo", "medium": "ppc"}, ("foo", "ppc", "Paid Other")),
    "organic-medium": (
        SITE, None, {"source": "foo", "medium": "organic"}, ("foo", "organic", "Organic Search")
    ),
    "sms": (SITE, None, {"source": "sms", "medium": "text"}, ("sms", "text", "SMS")),
    "push": (
        SITE, None, {"source": "app", "medium": "web-push"},
        ("app", "web-push", "Mobile Push Notifications"),
    ),
    "unassigned": (SITE, None, {"source": "foo", "medium": "bar"}, ("foo", "bar", "Unassigned")),
    "medium-without-source": (
        SITE, None, {"medium": "email"}, ("(not set)", "email", "Email")
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def channels_run(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    pipeline = Pipeline(tmp_path_factory.mktemp("channels"))
    records = [
        web(f"{case}-1", i * 10, anon=case, url=url, referrer=referrer, campaign=campaign)
        for i, (case, (url, referrer, campaign, _)) in enumerate(CASES.items())
    ]
    write_jsonl(pipeline.inbox / "web" / "events.jsonl", records)
    pipeline.run()
    return pipeline


@pytest.mark.parametrize("case", sorted(CASES))
def test_channel(channels_run: Pipeline, case: str) -> None:
    row = channels_run.query(
        "select traffic_source, traffic_medium, channel from marts.sessions where device_id = ?",
        [case],
    )
    assert row == [CASES[case][3]]


def test_internal_hosts_are_not_referrers(tmp_path) -> None:
    pipeline = Pipeline(tmp_path)
    pipeline.configure("channels:\n  internal_hosts: [checkout.example.com]\n")
    write_jsonl(
        pipeline.inbox / "web" / "e.jsonl",
        [web("z1", 0, "d", referrer="https://checkout.example.com/pay")],
    )
    pipeline.run()
    assert pipeline.query("select channel from marts.sessions") == [("Direct",)]
