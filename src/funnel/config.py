"""`funnel.yaml`: every rule of the pipeline as a named, documented, validated setting.

Every section is optional; a missing key takes the default written here (and listed in the
README). An unknown key or a bad value is an error that names the key, never a silent default.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


def parse_duration(value: Any) -> int:
    """'30m' -> 1800. Units: s, m, h, d. A bare integer is seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '30m' (units s, m, h, d)")
    if isinstance(value, int):
        seconds = value
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration like '30m' (units s, m, h, d)")
        seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


Duration = Annotated[int, BeforeValidator(parse_duration)]


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


class SensorConfig(_Section):
    interval_seconds: int = Field(
        60, ge=10, description="How often the inbox is checked for new files."
    )


class WarehouseConfig(_Section):
    memory_limit: str | None = Field(None, description="DuckDB memory_limit, e.g. '8GB'.")
    threads: int | None = Field(None, ge=1, description="DuckDB threads (default: all cores).")
    temp_directory: str | None = Field(None, description="Where DuckDB spills to disk.")


class FunnelConfig(_Section):
    sessions: SessionsConfig = SessionsConfig()
    identity: IdentityConfig = IdentityConfig()
    channels: ChannelsConfig = ChannelsConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    sensor: SensorConfig = SensorConfig()
    warehouse: WarehouseConfig = WarehouseConfig()


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
