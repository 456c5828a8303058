"""Web events: Segment-spec page, track and identify calls rendered from the planned visits.

A visit is a burst of events less than 30 minutes apart; visits on one device are more than 30
minutes apart unless an edge case is planted (see people._plant_session_edges). The first event
of a visit is a page view carrying the channel's referrer; utm params sit in its URL and every
event of the visit carries them in context.campaign.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .channels import SITE, campaign_for, classify, has_utm, referrer_for, utm_query
from .ids import IdFactory
from .people import DAY, HOUR, MINUTE, Device, Person, Population, Visit, raw_email
from .records import Row
from .timefmt import at_ms, epoch_ms, iso_ms

# sku, name, URL slug, price in cents
PRODUCTS = (
    ("sku-1001", "Smart Thermostat", "smart-thermostat", 12900),
    ("sku-1002", "Door Sensor", "door-sensor", 2900),
    ("sku-1003", "WiFi Camera", "wifi-camera", 8900),
    ("sku-1004", "Smart Plug", "smart-plug", 1950),
    ("sku-1005", "Hub Pro", "hub-pro", 19900),
    ("sku-1006", "Leak Detector", "leak-detector", 3900),
    ("sku-1007", "Video Doorbell", "video-doorbell", 14900),
    ("sku-1008", "Motion Sensor", "motion-sensor", 2450),
)
_BY_SKU = {p[0]: p for p in PRODUCTS}
POSTS = (
    "ten-ways-to-save-energy",
    "choosing-a-hub",
    "camera-privacy-guide",
    "smart-home-for-renters",
    "release-notes-2026",
)
_PAGES = {"Home": "/", "Pricing": "/pricing", "Cart": "/cart", "Checkout": "/checkout"}
_TITLES = {"Home": "Acme Smart Home", "Pricing": "Pricing", "Cart": "Your cart"}

# Columns of the flat (CSV, Parquet) web files: nested fields flattened with dots.
FLAT_COLUMNS = (
    "messageId", "type", "event", "name", "anonymousId", "userId", "timestamp",
    "properties.url", "properties.path", "properties.title", "properties.referrer",
    "properties.product_id", "properties.price", "properties.order_id", "properties.revenue",
    "properties.currency", "context.page.url", "context.page.path", "context.page.referrer",
    "context.page.title", "context.campaign.source", "context.campaign.medium",
    "context.campaign.name", "context.campaign.term", "context.campaign.content",
    "context.userAgent", "context.sessionId", "traits.email",
)  # fmt: skip


@dataclass
class Step:
    kind: str  # page, track or identify
    name: str  # page name, track event name, or identify's purpose (signup/login/junk/shared)
    item: str | None = None  # product sku (Product page, product events) or blog post slug


def flatten(event: dict[str, Any]) -> dict[str, str | None]:
    """One web event as the flat files write it: every value as text, None when missing."""
    leaves: dict[str, Any] = {}
    _leaves(event, "", leaves)  # one walk over the event rather than one per column
    flat: dict[str, str | None] = {}
    for column in FLAT_COLUMNS:
        value = leaves.get(column)
        if value is None or isinstance(value, str):
            flat[column] = value
        else:
            flat[column] = repr(value)  # numbers: same text as json.dumps writes
    return flat


def _leaves(obj: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    """Every non-object value of `obj` under its dotted path."""
    for key, value in obj.items():
        if isinstance(value, dict):
            _leaves(value, f"{prefix}{key}.", out)
        else:
            out[prefix + key] = value


def _product_steps(rng: random.Random, count: int) -> list[Step]:
    steps = []
    for sku, *_ in rng.sample(PRODUCTS, count):
        steps += [Step("page", "Product", sku), Step("track", "Product Viewed", sku)]
    return steps


def _browse(rng: random.Random) -> list[Step]:
    steps = [Step("page", "Blog Post", rng.choice(POSTS)) if rng.random() < 0.5 else _home()]
    for _ in range(rng.choice((0, 1, 2, 2, 3))):
        pick = rng.random()
        if pick < 0.4:
            steps.append(Step("page", "Blog Post", rng.choice(POSTS)))
        elif pick < 0.7:
            steps.append(_home())
        else:
            steps.append(Step("page", "Product", rng.choice(PRODUCTS)[0]))
    if rng.random() < 0.2:
        steps.append(Step("track", "Products Searched"))
    return steps


def _home() -> Step:
    return Step("page", "Home")


def _consider(rng: random.Random) -> list[Step]:
    landing = rng.random()
    if landing < 0.4:
        steps = [_home(), Step("track", "Product List Viewed")]
    elif landing < 0.7:
        steps = []
    else:
        steps = [Step("page", "Blog Post", rng.choice(POSTS))]
    if steps and rng.random() < 0.25:
        steps.append(Step("track", "Products Searched"))
    steps += _product_steps(rng, rng.choice((1, 2, 2, 3)))
    if rng.random() < 0.3:
        steps.append(Step("page", "Blog Post", rng.choice(POSTS)))
    if rng.random() < 0.4:
        steps.append(Step("page", "Pricing"))
    return steps


def _cart(rng: random.Random, skus: list[str], checkout: bool, order: bool) -> list[Step]:
    steps = [Step("track", "Product Added", sku) for sku in skus]
    steps += [Step("page", "Cart"), Step("track", "Cart Viewed")]
    if checkout:
        steps += [Step("page", "Checkout"), Step("track", "Checkout Started")]
    if order:
        steps.append(Step("track", "Order Completed"))
    return steps


def plan_steps(intent: str, rng: random.Random) -> list[Step]:
    if intent == "browse":
        return _browse(rng)
    if intent == "consider":
        return _consider(rng)
    if intent in ("decide", "purchase"):
        steps = _consider(rng)
        viewed = [s.item for s in steps if s.name == "Product Viewed" and s.item]
        skus = viewed[: rng.choice((1, 1, 2))]
        purchase = intent == "purchase"
        return steps + _cart(rng, skus, purchase or rng.random() < 0.5, purchase)
    if intent == "signup":
        steps = [Step("page", rng.choice(("Home", "Pricing")))]
        if steps[0].name == "Home" and rng.random() < 0.6:
            steps.append(Step("page", "Pricing"))
        steps += [Step("identify", "signup"), Step("track", "Signed Up")]
        return steps + (_product_steps(rng, 1) if rng.random() < 0.5 else [])
    if intent == "demo":
        steps = [_home()] if rng.random() < 0.5 else []
        return [*steps, Step("page", "Pricing"), Step("track", "Demo Requested")]
    raise ValueError(intent)


class WebRenderer:
    def __init__(self, pop: Population, rng: random.Random, ids: IdFactory) -> None:
        self.pop = pop
        self.rng = rng
        self.ids = ids
        self.people = {p.person_id: p for p in pop.people}
        self.rows: list[Row] = []
        self.signup_at: dict[str, datetime] = {}  # when each person's sign-up identify happened
        self.landings: dict[tuple[str, str], str] = {}  # (person, utm_campaign) -> landing URL

    def render(self) -> list[Row]:
        # Owned devices first, in person order, so a sign-up is known before a login elsewhere.
        for person in self.pop.people:
            for device in person.devices:
                self._device(device)
        self._device(self.pop.shared_device)
        return self.rows

    def _device(self, device: Device) -> None:
        user: str | None = None  # the userId the browser sends, once someone identified
        prev_end: datetime | None = None
        logged_in: set[str] = set()
        for visit in device.visits:
            start = visit.start
            if prev_end is not None:
                if visit.gap_before is not None:
                    start = prev_end + visit.gap_before
                elif start < prev_end + 35 * MINUTE:
                    start = at_ms(prev_end, self.rng.randrange(40 * 60_000, 4 * 3_600_000))
            if start > self.pop.end - 3 * HOUR and not visit.essential:
                continue
            person = self.people[visit.person_id]
            steps = plan_steps(visit.intent, self.rng)
            if device.owner is None:  # shared device: whoever browses is logged in
                user = person.user_id
                if person.person_id not in logged_in:
                    steps.insert(1, Step("identify", "shared"))
                    logged_in.add(person.person_id)
            elif (
                user is None
                and person.identified
                and visit.intent != "signup"
                and person.person_id in self.signup_at
                and start > self.signup_at[person.person_id]
            ):
                steps.insert(1, Step("identify", "login"))
            if visit.junk_email is not None:
                after_login = len(steps) > 1 and steps[1].kind == "identify"
                steps.insert(2 if after_login else 1, Step("identify", "junk"))
            user, prev_end = self._visit(device, visit, person, start, steps, user)
        owner = self.people.get(device.owner or "")
        if owner and owner.identified and user is None and prev_end is not None:
            # a planted gap moved the planned login before the sign-up: log in once more later
            signed_up = self.signup_at[owner.person_id]
            start = at_ms(max(prev_end, signed_up), self.rng.randrange(3_600_000, 6 * 3_600_000))
            if start > self.pop.end - 3 * HOUR:
                return  # no room left: this device stays unlinked (never seen in the sweeps)
            visit = Visit(start, owner.person_id, "consider", "Direct")
            steps = plan_steps("consider", self.rng)
            steps.insert(1, Step("identify", "login"))
            self._visit(device, visit, owner, start, steps, user)

    def _times(self, visit: Visit, start: datetime, count: int) -> list[datetime]:
        """Event times: short gaps; a planted inner gap; or bursts spread over more than 24 h."""
        if visit.long:
            # bursts at +0 and +3..8 h, one page view at exactly +24 h (still the first chunk),
            # then a burst from +24 h 40 min (the second chunk)
            after = max(1, count // 3)
            exact = count - after - 1
            first = max(1, exact // 2)
            times = self._burst(start, first)
            times += self._burst(
                at_ms(start, self.rng.randrange(3 * 3_600_000, 8 * 3_600_000)), exact - first
            )
            times.append(start + DAY)
            late = at_ms(start + DAY, self.rng.randrange(40 * 60_000, 3 * 3_600_000))
            return times + self._burst(late, after)
        times = [start]
        planted = max(1, count // 2) if visit.inner_gap is not None else -1
        for i in range(1, count):
            if i == planted:
                assert visit.inner_gap is not None
                times.append(times[-1] + visit.inner_gap)
            else:
                times.append(at_ms(times[-1], self.rng.randrange(400, 150_000)))
        return times

    def _burst(self, start: datetime, count: int) -> list[datetime]:
        times = [start]
        for _ in range(count - 1):
            times.append(at_ms(times[-1], self.rng.randrange(400, 150_000)))
        return times

    def _visit(
        self,
        device: Device,
        visit: Visit,
        person: Person,
        start: datetime,
        steps: list[Step],
        user: str | None,
    ) -> tuple[str | None, datetime]:
        rng = self.rng
        if visit.long:
            steps = [*steps, _home(), *_consider(rng)]
            steps.insert(len(steps) // 2, Step("page", "Pricing"))
        if len(steps) < 2 and (visit.inner_gap is not None or visit.long):
            steps.append(_home())
        times = self._times(visit, start, len(steps))
        if visit.long:
            # the exact +24 h event is a page view: steps are reordered so a page lands there
            steps = _page_at(steps, times.index(start + DAY))
        if visit.campaign is not None:
            campaign = campaign_for("Email", rng, visit.campaign)
        else:
            campaign = campaign_for(visit.channel, rng) if has_utm(visit.channel) else {}
        referrer = referrer_for(visit.channel, rng)
        if classify(campaign.get("source"), campaign.get("medium"), referrer) != visit.channel:
            raise RuntimeError(f"channel {visit.channel} is not written as itself")
        session_id = str(epoch_ms(start)) if device.tracker else None
        page: dict[str, str] = {}
        cart: list[str] = []
        order_id: str | None = None
        junk_at = min(1, len(steps) - 1) if visit.junk_user_id is not None else -1
        for i, (step, at) in enumerate(zip(steps, times, strict=True)):
            if step.kind == "page":
                path, title = _page_path(step)
                url = SITE + path
                if not page and campaign:
                    url += "?" + utm_query(campaign)
                    if visit.campaign is not None:
                        self.landings[(person.person_id, visit.campaign)] = url
                page = {
                    "url": url,
                    "path": path,
                    "referrer": page["url"] if page else referrer,
                    "title": title,
                }
            if step.kind == "identify" and step.name in ("signup", "login", "shared"):
                user = person.user_id
                if step.name == "signup":
                    self.signup_at[person.person_id] = at
            event: dict[str, Any] = {"messageId": self.ids.event_id("web"), "type": step.kind}
            if step.kind == "page":
                event["name"] = step.name
            elif step.kind == "track":
                event["event"] = step.name
            event["anonymousId"] = device.anonymous_id
            event["userId"] = visit.junk_user_id if i == junk_at else user
            event["timestamp"] = iso_ms(at, device.offset_min)
            if step.kind == "page":
                event["properties"] = {
                    "url": page["url"],
                    "path": page["path"],
                    "title": page["title"],
                    "referrer": page["referrer"],
                }
            elif step.kind == "track":
                event["properties"], order_id = self._track_properties(step, cart, order_id)
            # page and campaign are shared by the visit's events, never mutated (saves memory)
            context: dict[str, Any] = {"page": page}
            if campaign:
                context["campaign"] = campaign
            context["userAgent"] = device.user_agent
            if session_id is not None:
                context["sessionId"] = session_id
            event["context"] = context
            if step.kind == "identify":
                email = (
                    visit.junk_email if step.name == "junk" else raw_email(person.email, rng, 0.3)
                )
                event["traits"] = {"email": email}
            self.rows.append(Row("web", at, event, person.person_id))
        return user, times[-1]

    def _track_properties(
        self, step: Step, cart: list[str], order_id: str | None
    ) -> tuple[dict[str, Any], str | None]:
        if step.name in ("Product Viewed", "Product Added") and step.item:
            if step.name == "Product Added":
                cart.append(step.item)
            return {"product_id": step.item, "price": _BY_SKU[step.item][3] / 100}, order_id
        if step.name in ("Checkout Started", "Order Completed"):
            order_id = order_id or self.ids.number("ord-", 7)
            revenue = sum(_BY_SKU[sku][3] for sku in cart) / 100
            return {"order_id": order_id, "revenue": revenue, "currency": "USD"}, order_id
        return {}, order_id


def _page_path(step: Step) -> tuple[str, str]:
    if step.name == "Product":
        _, name, slug, _ = _BY_SKU[step.item or PRODUCTS[0][0]]
        return f"/products/{slug}", f"{name} | Acme"
    if step.name == "Blog Post":
        slug = step.item or POSTS[0]
        return f"/blog/{slug}", slug.replace("-", " ").capitalize() + " | Acme Blog"
    return _PAGES[step.name], _TITLES.get(step.name, step.name) + (
        "" if step.name == "Home" else " | Acme"
    )


def _page_at(steps: list[Step], index: int) -> list[Step]:
    """Move the first page step at or after `index` to `index` (keeps the landing page first)."""
    if steps[index].kind == "page":
        return steps
    later = next(i for i in range(index, len(steps)) if steps[i].kind == "page")
    steps = list(steps)
    steps.insert(index, steps.pop(later))
    return steps


@dataclass
class WebResult:
    rows: list[Row]
    signup_at: dict[str, datetime]  # person -> time of the sign-up identify
    landings: dict[tuple[str, str], str]  # (person, utm_campaign) -> landing URL of the click


def build_web(pop: Population, rng: random.Random, ids: IdFactory) -> WebResult:
    """All valid web events, with what the CRM and e-mail renderers need to stay consistent."""
    renderer = WebRenderer(pop, rng, ids)
    rows = renderer.render()
    return WebResult(rows, renderer.signup_at, renderer.landings)
