"""KPI formulas on a small hand-made day of data, every value worked out by hand."""

from __future__ import annotations

import pytest
from conftest import CRM_COLUMNS, EMAIL_COLUMNS, Pipeline, crm, mail, web, write_csv, write_jsonl

H = 3600
DAY = 86400  # day 1 starts at T0 = 2026-08-03 09:00 UTC; day 2 24 hours later


def order(mid: str, seconds: float, device: str, revenue: float) -> dict:
    return web(mid, seconds, device, type="track", event="Order Completed",
               properties={"revenue": revenue, "order_id": mid})  # fmt: skip


@pytest.fixture(scope="module")
def kpis(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    pipeline = Pipeline(tmp_path_factory.mktemp("kpis"))
    write_jsonl(pipeline.inbox / "web" / "events.jsonl", [
        # P: identified; day 1 a converting session, day 2 a repeat order
        web("p1", 0, "p", "user-p", type="identify", email="p@shop.io"),
        web("p2", 60, "p", type="track", event="Product Viewed"),
        order("p3", 300, "p", 100),
        order("p4", DAY, "p", 50),
        # Q: day 1 a bounce; day 2 a first order
        web("q1", 1 * H, "q"),
        web("q2", DAY + H, "q"),
        order("q3", DAY + H + 60, "q", 30),
        # R: day 1 an engaged session (two pages) and a bounce
        web("r1", 2 * H, "r"),
        web("r2", 2 * H + 5, "r"),
        web("r3", 4 * H, "r"),
    ])  # fmt: skip
    write_csv(pipeline.inbox / "crm" / "crm.csv", CRM_COLUMNS, [
        crm("c1", 3 * H, "contact_created", contact_id="k1", email="p@shop.io"),
        crm("c2", 6 * H, "deal_won", contact_id="k2", email="s@shop.io", amount="1000"),
        crm("c3", 6 * H, "deal_lost", contact_id="k3", email="t@shop.io"),
        crm("c4", 7 * H, "nps_response", contact_id="k1", email="p@shop.io", score="10"),
        crm("c5", 7 * H, "nps_response", contact_id="k4", email="u@shop.io", score="5"),
        crm("c6", 7 * H, "nps_response", contact_id="k5", email="v@shop.io", score="9"),
        crm("c7", DAY + 2 * H, "referral_made", contact_id="k1", email="p@shop.io"),
    ])  # fmt: skip
    write_csv(pipeline.inbox / "email" / "email.csv", EMAIL_COLUMNS, [
        mail("e1", -H, "p@shop.io", "sent", campaign_id="c1"),
        mail("e2", -H + 5, "p@shop.io", "delivered", campaign_id="c1"),
        mail("e3", 2 * H, "p@shop.io", "open", campaign_id="c1"),
        mail("e4", 2 * H + 10, "p@shop.io", "click", campaign_id="c1"),
        mail("e5", -H, "s@shop.io", "sent", campaign_id="c1"),
        mail("e6", -H + 5, "s@shop.io", "delivered", campaign_id="c1"),
        mail("e7", -H, "w@shop.io", "sent", campaign_id="c1"),
        mail("e8", -H + 5, "w@shop.io", "bounce", campaign_id="c1"),
        # an unsubscribe on day 2 counts against the message delivered on day 1
        mail("e9", DAY + 5 * H, "p@shop.io", "unsubscribe", campaign_id="c1"),
    ])  # fmt: skip
    pipeline.run()
    return pipeline


DAY_1 = {
    "visitors": (3, 3, None),  # P, Q, R
    "sessions": (4, 4, None),  # P, Q, R twice
    "engaged_sessions": (2, 2, None),  # P (an order), R's first (two pages)
    "bounce_rate": (0.5, 2, 4),  # Q's, R's second
    "session_conversion_rate": (0.25, 1, 4),
    "customer_conversion_rate": (1 / 3, 1, 3),  # P of P, Q, R
    "orders": (2, 2, None),  # P's web order, S's won deal
    "revenue": (1100, 1100, None),
    "average_order_value": (550, 1100, 2),
    "repeat_purchase_rate": (0, 0, 2),
    "emails_sent": (3, 3, None),
    "emails_delivered": (2, 2, None),
    "email_open_rate": (0.5, 1, 2),  # of the 2 delivered messages, P's was opened
    "email_click_rate": (0.5, 1, 2),
    "email_click_to_open_rate": (1, 1, 1),
    "email_unsubscribe_rate": (0.5, 1, 2),
    "email_bounce_rate": (1 / 3, 1, 3),  # of 3 sent, W's bounced
    "new_leads": (1, 1, None),
    "deals_won": (1, 1, None),
    "deal_win_rate": (0.5, 1, 2),
    "nps": (100 / 3, 1, 3),  # promoters 10 and 9, detractor 5: 100 * (2 - 1) / 3
}
DAY_2 = {
    "visitors": (2, 2, None),
    "sessions": (2, 2, None),
    "engaged_sessions": (2, 2, None),  # both have an order
    "bounce_rate": (0, 0, 2),
    "session_conversion_rate": (1, 2, 2),
    "customer_conversion_rate": (1, 2, 2),
    "orders": (2, 2, None),
    "revenue": (80, 80, None),
    "average_order_value": (40, 80, 2),
    "repeat_purchase_rate": (0.5, 1, 2),  # P's second order; Q's first
    "referrals": (1, 1, None),
}


@pytest.mark.parametrize(("day", "expected"), [("2026-08-03", DAY_1), ("2026-08-04", DAY_2)])
def test_kpi_daily(kpis: Pipeline, day: str, expected: dict) -> None:
    rows = kpis.query(
        "select kpi, value, numerator, denominator from marts.kpi_daily where day = ?", [day]
    )
    actual = {kpi: (value, num, den) for kpi, value, num, den in rows}
    assert set(actual) == set(expected)
    for kpi, values in expected.items():
        assert actual[kpi] == pytest.approx(values), kpi


def test_channels_add_up_to_the_day(kpis: Pipeline) -> None:
    mismatches = kpis.query(
        """
        select d.day, d.kpi
        from marts.kpi_daily as d
        inner join (
            select day, kpi, sum(numerator) as n, sum(denominator) as m
            from marts.kpi_by_channel group by day, kpi
        ) as c on c.day = d.day and c.kpi = d.kpi
        where c.n <> d.numerator or c.m is distinct from d.denominator
        """
    )
    assert mismatches == []
    # P's and S's first touch was the campaign e-mail (08:00); Q and R came to the site directly
    channels = kpis.query(
        "select acquisition_channel, numerator from marts.kpi_by_channel"
        " where day = '2026-08-03' and kpi = 'visitors' order by 1"
    )
    assert channels == [("Direct", 2.0), ("Email", 1.0)]
