"""Durations in settings: '30m', '24h', '14d' (units s, m, h, d) or a number of seconds."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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
