"""The marketing e-mail calendar: a weekly newsletter and an occasional promotion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    slug: str  # utm_campaign of the links in the mail
    sent_at: datetime  # when the send starts (UTC)


def schedule(start: datetime, end: datetime) -> list[Campaign]:
    """Newsletters on Tuesdays 09:00 UTC, promotions every third Thursday 15:00 UTC."""
    campaigns = []
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    thursdays = 0
    while day < end:
        stamp = f"{day:%Y%m%d}"
        if day.weekday() == 1:
            campaigns.append(
                Campaign(
                    f"nl-{stamp}",
                    f"Weekly Newsletter {day:%Y-%m-%d}",
                    f"newsletter-{day:%Y-%m-%d}",
                    day + timedelta(hours=9),
                )
            )
        if day.weekday() == 3:
            if thursdays % 3 == 1:
                campaigns.append(
                    Campaign(
                        f"promo-{stamp}",
                        f"Promotion {day:%Y-%m-%d}",
                        f"promo-{day:%Y-%m-%d}",
                        day + timedelta(hours=15),
                    )
                )
            thursdays += 1
        day += timedelta(days=1)
    return [c for c in campaigns if c.sent_at < end]
