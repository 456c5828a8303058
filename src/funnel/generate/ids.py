"""Deterministic, collision-free identifiers drawn from one seeded random stream."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable


class IdFactory:
    """Hands out ids that are unique across everything this factory produced."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def _unique(self, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if value not in self._seen:
                self._seen.add(value)
                return value

    def uuid4(self) -> str:
        return self._unique(lambda: str(uuid.UUID(int=self._rng.getrandbits(128), version=4)))

    def hex(self, prefix: str, digits: int) -> str:
        return self._unique(lambda: f"{prefix}{self._rng.getrandbits(4 * digits):0{digits}x}")

    def number(self, prefix: str, digits: int) -> str:
        low = 10 ** (digits - 1)
        return self._unique(lambda: f"{prefix}{self._rng.randrange(low, 10 * low)}")

    def event_id(self, source: str) -> str:
        """A fresh event id in the style of the source's exports."""
        if source == "web":
            return self.hex("ajs-", 16)
        if source == "email":
            return self.hex("sg-", 16)
        return self.number("", 12)
