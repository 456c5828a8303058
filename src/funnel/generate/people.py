"""The population: who the persons are, which sources they appear in, their devices, and the plan
of their web visits (when, from which channel, with what intent). The source modules render these
plans into records; the truth tables are computed from the records, never from the plan.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .campaigns import Campaign
from .ids import IdFactory
from .timefmt import OFFSETS, at_ms

# Share of each kind of person (web_anon: web visitor who never identifies).
KIND_MIX = (
    ("web_anon", 0.37),
    ("web", 0.12),
    ("web_email", 0.14),
    ("web_crm", 0.12),
    ("web_crm_email", 0.10),
    ("crm_only", 0.07),
    ("email_only", 0.05),
    ("crm_email", 0.03),
)
# Enough of each kind for the hubs and the planted edge cases, however small the population.
KIND_MIN = {
    "web_anon": 6,
    "web": 6,
    "web_email": 3,
    "web_crm": 6,
    "web_crm_email": 2,
    "crm_only": 2,
    "email_only": 2,
    "crm_email": 1,
}
MIN_CUSTOMERS = 40

ACQUISITION = (
    ("Organic Search", 25),
    ("Direct", 18),
    ("Paid Search", 17),
    ("Paid Social", 10),
    ("Organic Social", 9),
    ("Referral", 8),
    ("Email", 5),
    ("Display", 4),
    ("Affiliates", 4),
)
# Later visits: mostly direct or search; Email visits only come from planned newsletter clicks.
RETURNING = (
    ("Direct", 42),
    ("Organic Search", 22),
    ("Paid Search", 9),
    ("Paid Social", 6),
    ("Organic Social", 8),
    ("Referral", 6),
    ("Display", 4),
    ("Affiliates", 3),
)
CRM_CHANNELS = (
    ("Referral", 30),
    ("Direct", 25),
    ("Organic Search", 20),
    ("Paid Search", 15),
    ("Email", 10),
)

SUPPORT_MAILBOX = "support@acme-corp.example"
JUNK_USER_IDS = ("null", "undefined", "0", "unknown")
JUNK_EMAILS = ("test@example.com", "null", "")

_FIRST = (
    "anna", "ben", "carla", "david", "elena", "felix", "grace", "hugo", "ines", "jonas",
    "kim", "lena", "marco", "nora", "omar", "paula", "quinn", "rosa", "sven", "tara",
)  # fmt: skip
_LAST = (
    "adler", "berg", "costa", "dietrich", "evans", "fischer", "garcia", "hoffmann", "ito",
    "jensen", "kowalski", "lopez", "meyer", "nguyen", "olsen", "patel", "rossi", "schmidt",
)  # fmt: skip
_DOMAINS = ("mailbox.example", "webpost.example", "globex.example", "initech.example")

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/128.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/128.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:129.0) Gecko/20100101 Firefox/129.0",
)

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass
class Visit:
    start: datetime  # planned; the renderer may push it later so visits never overlap
    person_id: str  # who is browsing (differs between visits only on the shared device)
    intent: str  # browse, consider, decide, purchase, signup, demo
    channel: str
    campaign: str | None = None  # utm_campaign when the visit comes from a newsletter click
    gap_before: timedelta | None = None  # planted: exact gap after the previous visit's end
    inner_gap: timedelta | None = None  # planted: exact gap between two events of the visit
    long: bool = False  # planted: one tracker session spanning more than 24 h
    junk_user_id: str | None = None  # planted: one event carries this junk userId
    junk_email: str | None = None  # planted: an extra identify with this junk traits.email
    essential: bool = False  # never dropped for running past the window


@dataclass
class Device:
    anonymous_id: str
    owner: str | None  # None for the shared device
    tracker: bool  # the tracker writes context.sessionId on every event
    offset_min: int  # local UTC offset the browser writes timestamps in
    user_agent: str
    visits: list[Visit] = field(default_factory=list)


@dataclass
class Person:
    person_id: str
    plan: str  # one of KIND_MIX's kinds
    email: str  # normalized address
    first_at: datetime  # planned first touch
    channel: str  # acquisition channel ('' for e-mail-only persons)
    user_id: str | None = None
    contact_id: str | None = None
    crm_knows_user_id: bool = False
    crm_email: str | None = None  # address on the CRM contact (the support mailbox for a hub)
    devices: list[Device] = field(default_factory=list)
    subscribed_at: datetime | None = None
    clicks: dict[str, datetime] = field(default_factory=dict)  # campaign_id -> click time
    web_orders: int = 0

    @property
    def web(self) -> bool:
        return self.plan.startswith("web")

    @property
    def identified(self) -> bool:
        return self.web and self.plan != "web_anon"

    @property
    def crm(self) -> bool:
        return "crm" in self.plan

    @property
    def subscriber(self) -> bool:
        return "email" in self.plan


@dataclass
class Population:
    people: list[Person]
    shared_device: Device
    shared_users: list[str]  # person ids logging in on the shared device
    support_users: list[str]  # person ids whose CRM contact carries the support mailbox
    start: datetime
    end: datetime

    def devices(self) -> list[Device]:
        return [d for p in self.people for d in p.devices] + [self.shared_device]


def weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


def raw_email(email: str, rng: random.Random, share: float = 0.15) -> str:
    """The address as some export writes it: sometimes capitalized or padded with spaces."""
    if rng.random() >= share:
        return email
    local, _, domain = email.partition("@")
    return rng.choice(
        (
            f"{local.capitalize()}@{domain}",
            email.upper(),
            f" {email}",
            f"{email} ",
            f"{local.title()}@{domain.capitalize()} ",
        )
    )


def _uniform_time(rng: random.Random, low: datetime, high: datetime) -> datetime:
    span_ms = max(1, (high - low) // timedelta(milliseconds=1))
    return at_ms(low, rng.randrange(span_ms))


def check_size(customers: int, start: datetime, end: datetime) -> None:
    """Room for the hubs and the planted edge cases."""
    if customers < MIN_CUSTOMERS:
        raise ValueError(f"customers must be at least {MIN_CUSTOMERS}")
    if end - start < 7 * DAY:
        raise ValueError("days must be at least 7")


def build_population(
    customers: int,
    start: datetime,
    end: datetime,
    campaigns: list[Campaign],
    rng: random.Random,
    ids: IdFactory,
    first: int = 1,
) -> Population:
    """`customers` persons numbered from `first` (person ids and e-mail addresses carry the
    number, so populations numbered apart never share one)."""
    check_size(customers, start, end)
    counts = {kind: max(KIND_MIN[kind], round(customers * share)) for kind, share in KIND_MIX}
    counts["web_anon"] -= sum(counts.values()) - customers
    plans = [kind for kind, _ in KIND_MIX for _ in range(counts[kind])]
    rng.shuffle(plans)

    people = []
    for index, plan in enumerate(plans, start=first):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        sep = rng.choice((".", "_", ""))
        email = f"{first}{sep}{last}{index}@{rng.choice(_DOMAINS)}"
        person = Person(f"p{index:05d}", plan, email, start, "")
        _plan_identity(person, rng, ids, start, end)
        people.append(person)

    support_users = _pick(rng, people, lambda p: p.plan == "web_crm", 3)
    by_id = {p.person_id: p for p in people}
    for pid in support_users:
        by_id[pid].crm_email = SUPPORT_MAILBOX
        by_id[pid].crm_knows_user_id = True
    # a couple of guaranteed repeat buyers, early enough for both orders to fit in the window
    identified = sorted((p for p in people if p.identified), key=lambda p: p.first_at)
    soon = [p for p in identified if p.first_at < start + (end - start) * 0.3]
    repeaters = set(_pick(rng, soon if len(soon) >= 2 else identified[:2], lambda p: True, 2))
    for person in people:
        if person.web:
            repeater = person.person_id in repeaters
            _plan_visits(person, rng, ids, start, end, campaigns, repeater)
    sharing = sorted(
        (p for p in people if p.plan in ("web", "web_email")), key=lambda p: _signup(p).start
    )
    early = [p for p in sharing if _signup(p).start < end - 5 * DAY]
    shared_users = _pick(rng, early if len(early) >= 3 else sharing[:3], lambda p: True, 3)
    shared = _device(ids, rng, owner=None, tracker=False)
    for pid in shared_users:
        _plan_shared_visits(by_id[pid], shared, rng, end)
    shared.visits.sort(key=lambda v: v.start)
    population = Population(people, shared, shared_users, support_users, start, end)
    _plant_session_edges(population, rng)
    _plant_junk(population, rng)
    return population


def _pick(
    rng: random.Random, people: list[Person], keep: Callable[[Person], bool], k: int
) -> list[str]:
    candidates = [p.person_id for p in people if keep(p)]
    return sorted(rng.sample(candidates, k))


def _plan_identity(
    person: Person, rng: random.Random, ids: IdFactory, start: datetime, end: datetime
) -> None:
    span = end - start
    if person.identified:
        person.user_id = ids.number("u", 8)
    if person.crm:
        person.contact_id = ids.number("", 10)
        person.crm_email = person.email
        person.crm_knows_user_id = person.identified and rng.random() < 0.5
    if person.web:
        share = 0.55 if person.identified else 0.8
        person.first_at = _uniform_time(rng, start, start + span * share)
        person.channel = weighted(rng, ACQUISITION)
    elif person.crm:
        person.first_at = _uniform_time(rng, start, start + span * 0.8)
        person.channel = weighted(rng, CRM_CHANNELS)
        if person.subscriber:
            person.subscribed_at = person.first_at + timedelta(minutes=rng.randint(5, 600))
    else:  # e-mail only: on the list since before the window
        person.first_at = start
        person.subscribed_at = start - timedelta(days=rng.randint(1, 400))


def _device(ids: IdFactory, rng: random.Random, owner: str | None, tracker: bool) -> Device:
    offset = rng.choices(OFFSETS, weights=(40, 25, 25, 10))[0]
    return Device(ids.uuid4(), owner, tracker, offset, rng.choice(USER_AGENTS))


def _geometric(rng: random.Random, p: float, cap: int) -> int:
    n = 0
    while n < cap and rng.random() > p:
        n += 1
    return n


def _plan_visits(
    person: Person,
    rng: random.Random,
    ids: IdFactory,
    start: datetime,
    end: datetime,
    campaigns: list[Campaign],
    repeater: bool = False,
) -> None:
    pid = person.person_id
    n_devices = 2 if person.identified and rng.random() < 0.4 else 1
    person.devices = [_device(ids, rng, pid, rng.random() < 0.3) for _ in range(n_devices)]
    if person.identified:
        depth = rng.choices(range(4), weights=(15, 30, 25, 30))[0]
        count = 3 + _geometric(rng, 0.33, 10)
    else:
        depth = rng.choices(range(4), weights=(45, 30, 17, 8))[0]
        count = 1 + _geometric(rng, 0.5, 5)
    if depth == 3 or repeater:
        repeat = repeater or rng.random() < (0.35 if person.identified else 0.1)
        person.web_orders = rng.choice((2, 2, 3)) if repeat else 1
    last_start = max(person.first_at + 12 * HOUR, end - 12 * HOUR)
    later = (_uniform_time(rng, person.first_at + HOUR, last_start) for _ in range(count - 1))
    times = [person.first_at, *sorted(later)]
    levels = ("browse", "consider", "decide")
    visits = [
        Visit(t, pid, levels[rng.randrange(min(depth, 2) + 1)], weighted(rng, RETURNING))
        for t in times
    ]
    visits[0].channel = person.channel
    device_of = [0] * count
    signup = 0
    if person.identified:
        signup = rng.randrange(max(1, (count + 1) // 2))
        if times[signup] > end - 4 * DAY:  # leave time for logins, CRM and e-mail afterwards
            signup = 0
        visits[signup].intent = "signup"
        visits[signup].essential = True
        if n_devices == 2:
            for i in range(1, count):
                if i != signup and rng.random() < 0.45:
                    device_of[i] = 1
            if not any(device_of[i] == 1 for i in range(signup + 1, count)):
                device_of[-1] = 1
            # the second device must get a visit after the sign-up to be linked by a login
            login = visits[max(i for i in range(count) if device_of[i] == 1)]
            login.essential = True
            if login.start > end - 2 * DAY:
                low = visits[signup].start + HOUR
                login.start = _uniform_time(rng, low, max(low + HOUR, end - 2 * DAY))
    eligible = [i for i in range(count) if i > signup or not person.identified]
    eligible = [i for i in eligible if visits[i].intent != "signup"]
    while len(eligible) < person.web_orders:  # room for every planned order
        t = _uniform_time(rng, visits[signup].start + HOUR, last_start)
        visits.append(Visit(t, pid, "consider", weighted(rng, RETURNING)))
        device_of.append(0)
        eligible.append(len(visits) - 1)
    for i in sorted(rng.sample(eligible, person.web_orders)):
        visits[i].intent = "purchase"
        visits[i].essential = repeater
    if person.crm and rng.random() < 0.5:
        spare = [i for i in eligible if visits[i].intent != "purchase"]
        if spare:
            visits[rng.choice(spare)].intent = "demo"
    if person.subscriber:
        person.subscribed_at = visits[signup].start + timedelta(minutes=rng.randint(2, 15))
        _plan_clicks(person, visits, device_of, rng, end, campaigns)
    for visit, device in zip(visits, device_of, strict=True):
        person.devices[device].visits.append(visit)
    for device in person.devices:
        device.visits.sort(key=lambda v: v.start)


def _plan_clicks(
    person: Person,
    visits: list[Visit],
    device_of: list[int],
    rng: random.Random,
    end: datetime,
    campaigns: list[Campaign],
) -> None:
    """Some newsletter clicks open a web visit (channel Email) a few seconds later."""
    assert person.subscribed_at is not None
    engagement = rng.uniform(0.05, 0.3)
    for campaign in campaigns:
        if campaign.sent_at < person.subscribed_at + HOUR or campaign.sent_at > end - 2 * DAY:
            continue
        if rng.random() >= engagement:
            continue
        click = at_ms(campaign.sent_at, rng.randrange(20 * 60_000, 30 * 3_600_000))
        person.clicks[campaign.campaign_id] = click
        start = at_ms(click, rng.randrange(2_000, 15_000))
        intent = rng.choice(("browse", "consider", "consider", "decide"))
        visits.append(Visit(start, person.person_id, intent, "Email", campaign.slug))
        device_of.append(0)


def _plan_shared_visits(person: Person, shared: Device, rng: random.Random, end: datetime) -> None:
    """Each of the shared device's users logs in there a couple of times after signing up."""
    signup = _signup(person).start
    low = signup + (DAY if signup < end - 3 * DAY else 2 * HOUR)
    high = max(low + HOUR, end - 2 * DAY)
    for _ in range(2):
        channel = rng.choice(("Direct", "Organic Search"))
        visit = Visit(_uniform_time(rng, low, high), person.person_id, "consider", channel)
        visit.essential = True
        shared.visits.append(visit)


def _signup(person: Person) -> Visit:
    return next(v for d in person.devices for v in d.visits if v.intent == "signup")


def _plant_session_edges(pop: Population, rng: random.Random) -> None:
    """Devices with exact-boundary gaps and odd tracker sessions (see truth.sessions)."""
    anonymous = {p.person_id for p in pop.people if p.plan == "web_anon"}
    devices = [d for p in pop.people for d in p.devices]
    pool = [d for d in devices if d.owner not in anonymous and len(d.visits) >= 2]
    rng.shuffle(pool)
    long_pool = [d for d in devices if d.owner in anonymous]
    rng.shuffle(long_pool)

    def take(tracker: bool) -> Device:
        device = pool.pop()
        device.tracker = tracker
        return device

    for _ in range(2):  # a gap of exactly 30:00.000 inside a visit: still one session
        visit = rng.choice(take(False).visits)
        visit.inner_gap = 30 * MINUTE
        if visit.intent == "browse":
            visit.intent = "consider"
    for gap in (30 * MINUTE + timedelta(milliseconds=1), 30 * MINUTE + timedelta(seconds=1)):
        take(False).visits[1].gap_before = gap  # just over 30 minutes: a new session
    for gap in (45 * MINUTE, 2 * HOUR):  # one tracker session with a long pause inside
        visit = rng.choice(take(True).visits)
        visit.inner_gap = gap
        if visit.intent == "browse":
            visit.intent = "consider"
    take(True).visits[1].gap_before = 12 * MINUTE  # two tracker sessions minutes apart

    # Tracker sessions over 24 h, on the last visit of a never-identified visitor's device so
    # nothing planned comes after them; every event carries the same utm campaign.
    latest = pop.end - 3 * DAY
    for device in [d for d in long_pool if _long_start(d) <= latest][:2]:
        device.tracker = True
        visit = device.visits[-1]
        visit.start = min(visit.start, max(latest, _long_start(device)))
        visit.long = True
        visit.channel = "Paid Search"
        visit.essential = True
        if len(device.visits) == 1:
            next(p for p in pop.people if p.person_id == device.owner).channel = visit.channel


def _long_start(device: Device) -> datetime:
    """Earliest start for a long last visit: well after the visit before it."""
    if len(device.visits) == 1:
        return device.visits[0].start
    return device.visits[-2].start + 6 * HOUR


def _plant_junk(pop: Population, rng: random.Random) -> None:
    """Junk identifiers on rows that also carry a valid one; they must never link anyone."""
    anonymous = [v for p in pop.people if p.plan == "web_anon" for d in p.devices for v in d.visits]
    for i, visit in enumerate(rng.sample(anonymous, max(4, len(anonymous) // 150))):
        visit.junk_user_id = JUNK_USER_IDS[i % len(JUNK_USER_IDS)]
    after_signup = []
    for person in pop.people:
        if person.identified and person.person_id not in pop.shared_users:
            visits = sorted((v for d in person.devices for v in d.visits), key=lambda v: v.start)
            signup = next(i for i, v in enumerate(visits) if v.intent == "signup")
            after_signup.extend(v for v in visits[signup + 1 :] if not v.long)
    for i, visit in enumerate(rng.sample(after_signup, max(3, len(after_signup) // 200))):
        visit.junk_email = JUNK_EMAILS[i % len(JUNK_EMAILS)]
