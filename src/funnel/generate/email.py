"""E-mail events (webhook-like export): sends, deliveries, opens, clicks and opt-outs."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .campaigns import Campaign
from .channels import SITE
from .ids import IdFactory
from .people import Person, Population, raw_email
from .records import Row
from .timefmt import iso_s, unix_seconds

COLUMNS = ("event_id", "email", "event", "timestamp", "campaign_id", "campaign_name", "url")
_PATHS = (
    "/",
    "/products/smart-thermostat",
    "/products/hub-pro",
    "/pricing",
    "/blog/choosing-a-hub",
)


def _seconds(at: datetime, low: int, high: int, rng: random.Random) -> datetime:
    return at.replace(microsecond=0) + timedelta(seconds=rng.randint(low, high))


class _Subscriber:
    def __init__(
        self,
        person: Person,
        landings: dict[tuple[str, str], str],
        end: datetime,
        rng: random.Random,
        ids: IdFactory,
    ) -> None:
        self.person = person
        self.landings = landings
        self.end = end
        self.rng = rng
        self.ids = ids
        self.open_rate = rng.uniform(0.1, 0.5)
        self.rows: list[Row] = []

    def emit(self, event: str, at: datetime, campaign: Campaign, url: str | None = None) -> None:
        if at >= self.end:
            return
        data = {
            "event_id": self.ids.event_id("email"),
            "email": raw_email(self.person.email, self.rng, 0.12),
            "event": event,
            "timestamp": None,  # written per file: Unix seconds or ISO 8601 (see stamp)
            "campaign_id": campaign.campaign_id,
            "campaign_name": campaign.name,
            "url": url,
        }
        self.rows.append(Row("email", at, data, self.person.person_id))

    def receive(self, campaign: Campaign) -> bool:
        """One campaign's events for this subscriber; False when they leave the list."""
        rng, pid = self.rng, self.person.person_id
        sent = _seconds(campaign.sent_at, 0, 900, rng)
        self.emit("sent", sent, campaign)
        if rng.random() < 0.025:
            self.emit("bounce", _seconds(sent, 2, 60, rng), campaign)
            return rng.random() < 0.5  # a hard bounce ends the subscription
        delivered = _seconds(sent, 1, 30, rng)
        self.emit("delivered", delivered, campaign)
        click = self.person.clicks.get(campaign.campaign_id)
        if click is not None:
            click = click.replace(microsecond=0)
            opened = max(
                delivered + timedelta(seconds=1), click - timedelta(seconds=rng.randint(5, 7200))
            )
            self.emit("open", opened, campaign)
            url = self.landings.get((pid, campaign.slug))
            self.emit("click", click, campaign, url or f"{SITE}/")
        elif rng.random() < self.open_rate:
            opened = _seconds(delivered, 60, 36 * 3600, rng)
            self.emit("open", opened, campaign)
            if not self.person.web and rng.random() < 0.2:
                query = f"utm_source=newsletter&utm_medium=email&utm_campaign={campaign.slug}"
                url = f"{SITE}{rng.choice(_PATHS)}?{query}"
                self.emit("click", _seconds(opened, 3, 600, rng), campaign, url)
        roll = rng.random()
        if roll < 0.006:
            self.emit("unsubscribe", _seconds(delivered, 120, 48 * 3600, rng), campaign)
            return False
        if roll < 0.008:
            self.emit("spamreport", _seconds(delivered, 120, 48 * 3600, rng), campaign)
            return False
        return True


def build_email(
    pop: Population,
    campaigns: list[Campaign],
    landings: dict[tuple[str, str], str],
    rng: random.Random,
    ids: IdFactory,
) -> list[Row]:
    rows: list[Row] = []
    for person in pop.people:
        if not person.subscriber or person.subscribed_at is None:
            continue
        subscriber = _Subscriber(person, landings, pop.end, rng, ids)
        for campaign in campaigns:
            if campaign.sent_at >= person.subscribed_at and not subscriber.receive(campaign):
                break
        rows += subscriber.rows
    return rows


def stamp(rows: list[Row], unix: bool) -> None:
    """Write the timestamp the way this file's export does: Unix seconds or ISO 8601 'Z'."""
    for row in rows:
        row.data["timestamp"] = unix_seconds(row.at) if unix else iso_s(row.at)
