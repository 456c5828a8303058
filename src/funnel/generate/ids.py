"""Deterministic, collision-free identifiers drawn from one seeded random stream."""

from __future__ import annotations

import random
import uuid


class IdFactory:
    """Hands out ids that are unique across everything this factory produced.

    `namespace` (digits) follows the prefix of every id but the UUIDs: factories with different
    namespaces never hand out the same id, because the random part has a fixed width. Shard 0
    uses the empty namespace, so a one-shard dataset keeps its ids.
    """

    def __init__(self, rng: random.Random, namespace: str = "") -> None:
        self._rng = rng
        self._namespace = namespace
        self._seen: set[str] = set()

    def uuid4(self) -> str:
        # 122 random bits: unique across shards without a namespace (the format stays a UUID)
        while True:
            value = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            if value not in self._seen:
                self._seen.add(value)
                return value

    def hex(self, prefix: str, digits: int) -> str:
        head, bits, seen = prefix + self._namespace, 4 * digits, self._seen
        while True:  # the check inline: this runs once per event
            value = f"{head}{self._rng.getrandbits(bits):0{digits}x}"
            if value not in seen:
                seen.add(value)
                return value

    def number(self, prefix: str, digits: int) -> str:
        head = prefix + self._namespace
        low = 10 ** (digits - 1)
        while True:
            value = f"{head}{self._rng.randrange(low, 10 * low)}"
            if value not in self._seen:
                self._seen.add(value)
                return value

    def event_id(self, source: str) -> str:
        """A fresh event id in the style of the source's exports."""
        if source == "web":
            return self.hex("ajs-", 16)
        if source == "email":
            return self.hex("sg-", 16)
        return self.number("", 12)
