"""Traffic sources: how a visit's channel is written (utm params, referrer) and how Google
Analytics 4's default channel grouping reads it back.

`classify` is the rule the truth tables use, and the pipeline is expected to agree with it:
utm params win over the referrer; without utm an empty or internal referrer is Direct.
"""

from __future__ import annotations

import random
from urllib.parse import urlencode, urlsplit

SITE_HOST = "shop.example.com"
SITE = f"https://{SITE_HOST}"

CHANNELS = (
    "Direct",
    "Organic Search",
    "Paid Search",
    "Paid Social",
    "Organic Social",
    "Email",
    "Referral",
    "Display",
    "Affiliates",
)

# (utm_source, utm_medium, campaign names, term choices, content choices)
_UTM: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "Paid Search": (
        "google",
        "cpc",
        ("brand-search", "generic-search", "competitor-search"),
        ("smart thermostat", "acme shop", "home sensors", "wifi camera"),
        (),
    ),
    "Paid Social": (
        "facebook",
        "paid_social",
        ("summer-sale", "retargeting", "prospecting"),
        (),
        ("carousel-a", "video-15s", "story-b"),
    ),
    "Email": ("newsletter", "email", ("welcome-series", "partner-newsletter"), (), ()),
    "Display": ("adnetwork", "display", ("display-prospecting",), (), ("banner-300x250",)),
    "Affiliates": ("partner", "affiliate", ("partner-program",), (), ()),
}

_REFERRERS: dict[str, tuple[str, ...]] = {
    "Organic Search": ("https://www.google.com/", "https://www.bing.com/"),
    "Paid Search": ("https://www.google.com/",),
    "Paid Social": ("https://www.facebook.com/",),
    "Organic Social": ("https://www.facebook.com/", "https://t.co/"),
    "Referral": (
        "https://blog.example.org/post",
        "https://news.example.net/article/4711",
        "https://forum.example.io/t/smart-home/92",
    ),
    "Affiliates": ("https://partner.example.net/deals",),
}

SEARCH_SOURCES = frozenset({"google", "bing", "yahoo", "baidu", "duckduckgo", "yandex", "ecosia"})
SOCIAL_SOURCES = frozenset(
    {"facebook", "fb", "instagram", "ig", "t.co", "twitter", "x", "linkedin", "lnkd.in", "tiktok"}
)
_PAID_MEDIUMS = ("cpc", "ppc", "retargeting", "paid")


def has_utm(channel: str) -> bool:
    return channel in _UTM


def campaign_for(channel: str, rng: random.Random, name: str | None = None) -> dict[str, str]:
    """context.campaign for a visit from `channel` ({} when the channel carries no utm)."""
    if channel not in _UTM:
        return {}
    source, medium, names, terms, contents = _UTM[channel]
    campaign = {"source": source, "medium": medium, "name": name or rng.choice(names)}
    if terms:
        campaign["term"] = rng.choice(terms)
    if contents:
        campaign["content"] = rng.choice(contents)
    return campaign


_UTM_PARAM = {"name": "campaign"}


def utm_query(campaign: dict[str, str]) -> str:
    # context.campaign.name is the utm_campaign param; the other keys keep their names
    return urlencode([(f"utm_{_UTM_PARAM.get(k, k)}", v) for k, v in campaign.items()])


def referrer_for(channel: str, rng: random.Random) -> str:
    choices = _REFERRERS.get(channel)
    return rng.choice(choices) if choices else ""


def _label(host: str) -> str:
    """'www.google.com' -> 'google'; 't.co' stays 't.co'."""
    parts = host.removeprefix("www.").split(".")
    return ".".join(parts) if len(parts) <= 2 and parts[-1] == "co" else parts[0]


def classify(source: str | None, medium: str | None, referrer: str | None) -> str:
    """GA4 default channel of an event from its utm source/medium and its page referrer."""
    src, med = (source or "").strip().lower(), (medium or "").strip().lower()
    paid = med.startswith(_PAID_MEDIUMS) or "cp" in med
    if src or med:
        if src in SEARCH_SOURCES and paid:
            return "Paid Search"
        if (src in SOCIAL_SOURCES and paid) or med in {"paid_social", "paidsocial", "social_paid"}:
            return "Paid Social"
        if "email" in {src, med} or "e-mail" in {src, med}:
            return "Email"
        if med in {"display", "banner", "expandable", "interstitial", "cpm"}:
            return "Display"
        if med == "affiliate":
            return "Affiliates"
        if src in SEARCH_SOURCES or med == "organic":
            return "Organic Search"
        if src in SOCIAL_SOURCES or med in {"social", "social-network", "sm"}:
            return "Organic Social"
        if med == "referral":
            return "Referral"
        return "Unassigned"
    host = (urlsplit(referrer or "").hostname or "").lower()
    if not host or host == SITE_HOST:
        return "Direct"
    label = _label(host)
    if label in SEARCH_SOURCES:
        return "Organic Search"
    if label in SOCIAL_SOURCES or host in SOCIAL_SOURCES:
        return "Organic Social"
    return "Referral"
