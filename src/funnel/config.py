"""`funnel.yaml`: every rule of the pipeline as a named, documented, validated setting.

Every section is optional; a missing key takes the default written here (and listed in the
README). An unknown key or a bad value is an error that names the key, never a silent default.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from funnel.durations import Duration
from funnel.journeys import Funnel, Matcher, Stage, Step

JUNK_VALUES = (
    "", "null", "none", "nil", "undefined", "unknown", "0", "-1", "n/a", "na", "nan",
    "anonymous", "guest", "test", "[object object]",
)  # fmt: skip

JUNK_EMAIL_PATTERNS = (
    "test@%", "%@example.com", "%@example.org", "%@test.com", "noreply@%", "no-reply@%",
    "null@%", "none@%", "unknown@%",
)  # fmt: skip

SEARCH_SOURCES = (
    "google", "bing", "yahoo", "baidu", "duckduckgo", "yandex", "ecosia", "naver", "ask", "aol",
    "seznam", "qwant", "startpage", "brave",
)  # fmt: skip

SOCIAL_SOURCES = (
    "facebook", "fb", "instagram", "ig", "t.co", "twitter", "x", "linkedin", "lnkd.in",
    "pinterest", "reddit", "tiktok", "snapchat", "quora", "tumblr", "vk", "weibo",
    "news.ycombinator.com", "threads", "mastodon", "whatsapp", "messenger",
)  # fmt: skip


# Where `funnel run` and `dagster dev` look when not told otherwise (relative to the working
# directory: the repository root in the quick start).
DEFAULT_INBOX = "data/sample"
DEFAULT_WAREHOUSE = "data/warehouse/funnel.duckdb"
DEFAULT_CONFIG = "funnel.yaml"


def default_config_path() -> str | None:
    """funnel.yaml if there is one; otherwise None, which means every default."""
    return DEFAULT_CONFIG if Path(DEFAULT_CONFIG).exists() else None


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SessionsConfig(_Section):
    """How web events become sessions (per device, never across devices)."""

    inactivity_timeout: Duration = Field(
        1800, description="A gap strictly longer than this starts a new session ('30m')."
    )
    max_duration: Duration = Field(
        86400, description="A longer session is split into chunks of at most this ('24h')."
    )
    engaged_min_duration: Duration = Field(
        10, description="A session lasting strictly longer than this is engaged ('10s')."
    )
    engaged_min_page_views: int = Field(
        2, ge=1, description="A session with at least this many page views is engaged."
    )
    conversion_events: list[str] = Field(
        default_factory=lambda: ["Order Completed", "Signed Up", "Demo Requested"],
        description="Web track events that count as conversions (a session with one is engaged).",
    )


class IdentityConfig(_Section):
    """How identifiers from the three sources are linked into customers."""

    junk_values: list[str] = Field(
        default_factory=lambda: list(JUNK_VALUES),
        description="Identifier values (compared trimmed, lower-cased) that never link anyone.",
    )
    junk_email_patterns: list[str] = Field(
        default_factory=lambda: list(JUNK_EMAIL_PATTERNS),
        description="SQL LIKE patterns of e-mail addresses (lower-cased) that never link anyone.",
    )
    max_customers_per_identifier: int = Field(
        2,
        ge=1,
        description=(
            "An identifier whose neighbours would fall into more than this many customers "
            "without it (a shared device, a support mailbox) is not used as a link."
        ),
    )


class ChannelsConfig(_Section):
    """Source lists behind Google Analytics 4's default channel grouping."""

    search_sources: list[str] = Field(
        default_factory=lambda: list(SEARCH_SOURCES),
        description="Sources (utm_source or referrer host label) that are search engines.",
    )
    social_sources: list[str] = Field(
        default_factory=lambda: list(SOCIAL_SOURCES),
        description="Sources that are social networks.",
    )
    video_sources: list[str] = Field(
        default_factory=lambda: ["youtube", "vimeo", "twitch", "dailymotion", "wistia"],
        description="Sources that are video sites.",
    )
    shopping_sources: list[str] = Field(
        default_factory=lambda: ["shopping", "google shopping", "amazon", "ebay", "etsy"],
        description="Sources that are shopping sites.",
    )
    internal_hosts: list[str] = Field(
        default_factory=list,
        description=(
            "The site's own hosts: a referrer from them is no traffic source. "
            "The host of the landing page always counts as internal."
        ),
    )


class ScheduleConfig(_Section):
    cron: str = Field("0 6 * * *", description="When the daily run starts (cron).")
    timezone: str = Field("UTC", description="Time zone of the cron expression.")


class IngestConfig(_Section):
    """What the ingest layer accepts."""

    earliest: date = Field(
        date(2000, 1, 1), description="An event before this day (UTC) is quarantined."
    )
    max_future: Duration = Field(
        86400, description="An event later than the run's start plus this is quarantined ('1d')."
    )
    batch_megabytes: int = Field(
        64,
        ge=1,
        description="New files load in batches of at most this size on disk, one transaction "
        "each: larger batches parse faster, smaller ones hold less in memory.",
    )


class SensorConfig(_Section):
    interval_seconds: int = Field(
        60, ge=10, description="How often the inbox is checked for new files."
    )


class WarehouseConfig(_Section):
    memory_limit: str | None = Field(None, description="DuckDB memory_limit, e.g. '8GB'.")
    threads: int | None = Field(None, ge=1, description="DuckDB threads (default: all cores).")
    temp_directory: str | None = Field(None, description="Where DuckDB spills to disk.")
    part_rows: int = Field(
        20_000_000,
        ge=1,
        description="Sessionization, marts.events, the funnel step events and the attempts run "
        "in parts of about this many input rows (by a hash of the device, the event or the "
        "funnel's unit), so that each part's joins fit in "
        "memory: about 4 million per GB of memory_limit (smaller parts each rescan their input, "
        "larger ones spill).",
    )


def _any(event: str, source: str | None = None, *where: str) -> Matcher:
    return Matcher(source=source, event=event, where=list(where))


PURCHASE = [_any("Order Completed"), _any("deal_won", "crm")]
DEFAULT_STAGES = [
    Stage(name="awareness", match=[Matcher()]),  # the first touch of any kind
    Stage(
        name="consideration",
        match=[
            _any("Product Viewed"),
            _any("Product List Viewed"),
            _any("Products Searched"),
            _any("Page Viewed", None, "page_name in [Pricing, Product, 'Blog Post']"),
            _any("click", "email"),
        ],
    ),
    Stage(
        name="decision",
        match=[
            _any("Product Added"),
            _any("Checkout Started"),
            _any("Demo Requested"),
            _any("deal_created", "crm"),
        ],
    ),
    Stage(name="purchase", match=PURCHASE),
    Stage(name="retention", match=PURCHASE, occurrence=2),  # a second purchase
    Stage(
        name="advocacy",
        match=[
            _any("review_submitted", "crm"),
            _any("referral_made", "crm"),
            _any("nps_response", "crm", "score >= 9"),
        ],
    ),
]


class JourneyConfig(_Section):
    """The customer journey: ordered stages, each entered at its first matching event."""

    stages: list[Stage] = Field(default_factory=lambda: list(DEFAULT_STAGES), min_length=2)
    window: Duration = Field(
        90 * 86400, description="The journey funnel's window, from the first stage."
    )
    purchase_stage: str = Field(
        "purchase", description="The stage that is a purchase (for paths to purchase, KPIs)."
    )

    @model_validator(mode="after")
    def _check(self) -> JourneyConfig:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique: {names}")
        if self.purchase_stage not in names:
            raise ValueError(f"purchase_stage {self.purchase_stage!r} is not one of {names}")
        return self


class DropoffConfig(_Section):
    top_values: int = Field(
        10, ge=1, description="How many last events, pages and channels per dropped step."
    )


class FunnelConfig(_Section):
    ingest: IngestConfig = IngestConfig()
    sessions: SessionsConfig = SessionsConfig()
    identity: IdentityConfig = IdentityConfig()
    channels: ChannelsConfig = ChannelsConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    sensor: SensorConfig = SensorConfig()
    warehouse: WarehouseConfig = WarehouseConfig()
    journey: JourneyConfig = JourneyConfig()
    funnels: list[Funnel] = Field(default_factory=list)
    dropoff: DropoffConfig = DropoffConfig()

    @model_validator(mode="after")
    def _unique_funnels(self) -> FunnelConfig:
        names = [f.name for f in self.funnels]
        if len(set(names)) != len(names) or "journey" in names:
            raise ValueError(f"funnel names must be unique and not 'journey': {names}")
        return self

    def all_funnels(self) -> list[Funnel]:
        """The configured funnels and the journey's stages as the funnel `journey`."""
        journey = Funnel(
            name="journey",
            steps=[Step.from_stage(stage) for stage in self.journey.stages],
            window=self.journey.window,
        )
        return [journey, *self.funnels]


def load_config(path: Path | str | None) -> FunnelConfig:
    """Load and validate `funnel.yaml`; a missing path means all defaults."""
    if path is None:
        return FunnelConfig()
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found (pass --config or create it)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    try:
        return FunnelConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {_explain(err)}"
            for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None


def _explain(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (check the spelling against the README's configuration section)"
    return str(err["msg"])
