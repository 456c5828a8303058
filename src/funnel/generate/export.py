"""The writing side: takes the shards' outputs in shard order and appends them to the files
and the truth, so nothing but one shard's output is ever held."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from .shard import ShardOutput
from .truth import TRUTH_FILES, TruthWriter
from .writers import append


class Export:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.rows: dict[str, int] = {}  # rows written to each file so far
        self.parts: dict[str, list[Path]] = {}  # Parquet file -> its parts, in shard order
        self.truth = TruthWriter(out / "truth")
        self.persons = 0
        self.events: Counter[str] = Counter()

    def add(self, shard: ShardOutput) -> None:
        offsets: dict[str, int] = {}  # rows earlier shards wrote to each file
        for chunk in shard.chunks:
            offsets[chunk.name] = self.rows.get(chunk.name, 0)
            self.rows[chunk.name] = offsets[chunk.name] + chunk.rows
            if chunk.part is not None:
                self.parts.setdefault(chunk.name, []).append(chunk.part)
            else:
                append(self.out / chunk.name, chunk)
        self.truth.add(shard.truth, offsets)
        self.persons += shard.persons
        self.events.update(shard.events)

    def close(self, shards: int) -> dict[str, Any]:
        """Finish the truth (once the Parquet parts are merged); return the summary."""
        self.truth.close()
        counts = self.truth.counts
        written = sorted(self.rows) + [f"truth/{name}" for name in TRUTH_FILES]
        return {
            "persons": self.persons,
            "events": {source: self.events[source] for source in ("web", "crm", "email")},
            "sessions": counts["sessions.csv"],
            "files": written,
            "bad_rows": counts["bad_rows.csv"],
            "duplicates": counts["duplicates.csv"],
            "bytes": sum((self.out / name).stat().st_size for name in written),
            "shards": shards,
        }
