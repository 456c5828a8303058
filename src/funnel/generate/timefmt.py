"""Timestamp helpers: every instant is a UTC datetime with millisecond precision; formatting
decides how it looks in a given export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# UTC offsets (minutes) a browser or CRM user may write its local times in.
OFFSETS = (0, 120, -300, 330)


def at_ms(base: datetime, ms: int) -> datetime:
    return base + timedelta(milliseconds=ms)


def epoch_ms(at: datetime) -> int:
    return (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def unix_seconds(at: datetime) -> int:
    return epoch_ms(at) // 1000


def _offset_suffix(offset_min: int) -> str:
    if offset_min == 0:
        return "Z"
    sign = "+" if offset_min > 0 else "-"
    hours, minutes = divmod(abs(offset_min), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


_SUFFIX = {offset: _offset_suffix(offset) for offset in OFFSETS}


def _local(at: datetime, offset_min: int, timespec: str) -> str:
    # isoformat is several times faster than strftime; [:-6] drops its '+00:00' (UTC instants)
    local = at + timedelta(minutes=offset_min) if offset_min else at
    text = local.isoformat(timespec=timespec)[:-6]
    return text + (_SUFFIX.get(offset_min) or _offset_suffix(offset_min))


def iso_ms(at: datetime, offset_min: int = 0) -> str:
    """'2026-07-03T16:05:22.123+02:00': the instant `at` written in a local offset."""
    return _local(at, offset_min, "milliseconds")


def iso_s(at: datetime, offset_min: int = 0) -> str:
    """'2026-07-03T16:05:22+02:00' (second precision)."""
    return _local(at, offset_min, "seconds")


def iso_week(at: datetime) -> str:
    """ISO week of the UTC instant, e.g. '2026-W27'."""
    year, week, _ = at.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"
