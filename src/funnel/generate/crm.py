"""CRM activity log: contacts, lifecycle stages, deals, tickets, NPS, reviews and referrals."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .ids import IdFactory
from .people import DAY, HOUR, MINUTE, Person, Population, raw_email
from .records import Row
from .timefmt import OFFSETS, iso_s

COLUMNS = (
    "event_id", "contact_id", "email", "user_id", "event_type", "occurred_at", "stage",
    "deal_id", "amount", "currency", "score", "channel",
)  # fmt: skip
LIFECYCLE = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)
DEAL_STAGES = ("qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin", "contractsent")


class _Contact:
    """Renders one contact's history in time order; rows past the window are dropped."""

    def __init__(
        self,
        person: Person,
        start: datetime,
        end: datetime,
        rng: random.Random,
        ids: IdFactory,
        champion: bool = False,
    ) -> None:
        self.person = person
        self.champion = champion  # planted: buys, twice, and becomes a promoter, quickly
        self.pace = 0.1 if champion else 1.0
        self.t = start.replace(microsecond=0)
        self.end = end
        self.rng = rng
        self.ids = ids
        self.offset = rng.choice(OFFSETS[1:])
        self.rows: list[Row] = []

    def later(self, low: timedelta, high: timedelta) -> datetime:
        seconds = self.rng.uniform(low.total_seconds(), high.total_seconds()) * self.pace
        self.t += timedelta(seconds=max(1, round(seconds)))
        return self.t

    def emit(self, event_type: str, **fields: str) -> None:
        if self.t >= self.end:
            return
        person, rng = self.person, self.rng
        offset = 0 if rng.random() < 0.6 else self.offset
        data: dict[str, str | None] = dict.fromkeys(COLUMNS)
        data.update(
            event_id=self.ids.event_id("crm"),
            contact_id=person.contact_id,
            email=raw_email(person.crm_email or person.email, rng, 0.1),
            user_id=person.user_id if person.crm_knows_user_id else None,
            event_type=event_type,
            occurred_at=iso_s(self.t, offset),
            channel=person.channel,
        )
        data.update(fields)
        self.rows.append(Row("crm", self.t, data, person.person_id))

    def render(self, web: bool) -> list[Row]:
        rng = self.rng
        self.emit("contact_created")
        stage = 1 if web else 0
        self.later(timedelta(seconds=1), timedelta(seconds=5))
        self.emit("lifecycle_stage_changed", stage=LIFECYCLE[stage])
        target = rng.choices(range(6), weights=(20, 28, 18, 12, 8, 14))[0]
        if self.champion:
            target = 5
        while stage < min(target, 4):
            stage += 1
            self.later(HOUR, 6 * DAY)
            self.emit("lifecycle_stage_changed", stage=LIFECYCLE[stage])
        customer = False
        if target == 5:
            customer = self.deal(won=True)
        elif target == 4:  # an opportunity whose deal is lost or still open
            self.deal(won=False if rng.random() < 0.6 else None)
        if customer and (self.champion or rng.random() < 0.25):  # an upsell: a second purchase
            self.later(5 * DAY, 25 * DAY)
            self.deal(won=True)
        if (customer and rng.random() < 0.5) or rng.random() < 0.05:
            self.later(HOUR, 10 * DAY)
            self.emit("ticket_opened")
            if rng.random() < 0.9:
                self.later(2 * HOUR, 4 * DAY)
                self.emit("ticket_closed")
        if self.champion or rng.random() < (0.6 if customer else 0.2):
            self.later(DAY, 14 * DAY)
            score = rng.choices(range(11), weights=(1, 1, 1, 2, 2, 3, 4, 8, 12, 14, 12))[0]
            score = max(score, 9) if self.champion else score
            self.emit("nps_response", score=str(score))
            if score >= 9:
                if self.champion or rng.random() < 0.4:
                    self.later(10 * MINUTE, 3 * DAY)
                    self.emit("review_submitted")
                if self.champion or rng.random() < 0.3:
                    self.later(HOUR, 10 * DAY)
                    self.emit("referral_made")
                    if customer:
                        self.emit("lifecycle_stage_changed", stage="evangelist")
        return self.rows

    def deal(self, won: bool | None) -> bool:
        """A deal from creation to won (True), lost (False) or still open (None)."""
        rng = self.rng
        deal_id = self.ids.number("", 9)
        self.later(5 * MINUTE, 2 * HOUR)
        self.emit("deal_created", deal_id=deal_id, stage="appointmentscheduled")
        for stage in DEAL_STAGES[: rng.randint(1, len(DEAL_STAGES))]:
            self.later(HOUR, 5 * DAY)
            self.emit("deal_stage_changed", deal_id=deal_id, stage=stage)
        if won is None:
            return False
        self.later(HOUR, 7 * DAY)
        if not won:
            self.emit("deal_lost", deal_id=deal_id, stage="closedlost")
            return False
        amount = f"{rng.randrange(500, 25_000)}.00"
        self.emit("deal_won", deal_id=deal_id, stage="closedwon", amount=amount, currency="USD")
        self.later(timedelta(seconds=1), 5 * MINUTE)
        self.emit("lifecycle_stage_changed", stage="customer")
        return self.t < self.end


def build_crm(
    pop: Population, signup_at: dict[str, datetime], rng: random.Random, ids: IdFactory
) -> list[Row]:
    starts: dict[str, datetime] = {}
    for person in pop.people:
        if not person.crm:
            continue
        if person.web:
            # the sign-up on the site creates the contact a few minutes later
            starts[person.person_id] = signup_at[person.person_id] + timedelta(
                seconds=rng.randint(120, 2400)
            )
        else:
            starts[person.person_id] = person.first_at
    champions = sorted(starts, key=lambda pid: (starts[pid], pid))[:2]
    rows: list[Row] = []
    for person in pop.people:
        if person.person_id in starts:
            champion = person.person_id in champions
            contact = _Contact(person, starts[person.person_id], pop.end, rng, ids, champion)
            rows += contact.render(person.web)
    return rows
