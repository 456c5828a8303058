"""One shard: an independent population of at most `shard_size` persons, generated, laid out
into files, faulted and turned into truth on its own (in a worker process).

Shards share nothing but the calendar (the window, the e-mail campaigns) and the planted
values meant to be shared (the support mailbox, junk values): persons are numbered apart and
every id carries the shard's namespace, so no identifier links persons of two shards.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import crm, email, faults, layout, truth, web
from .campaigns import schedule
from .ids import IdFactory
from .people import build_population
from .records import Row
from .writers import Chunk, encode

# Persons per shard: about 28 events each; a worker building one peaks near 0.9 GB.
SHARD_SIZE = 20_000
_COLUMNS = {"web": web.FLAT_COLUMNS, "crm": crm.COLUMNS, "email": email.COLUMNS}
_FLATTEN = {"web": web.flatten, "crm": None, "email": None}


@dataclass(frozen=True)
class ShardSpec:
    index: int
    customers: int
    first_person: int  # number of the shard's first person (numbers run on across shards)
    seed: int
    begin: datetime
    end: datetime
    layout: str
    file_format: str | None  # daily layout: jsonl.gz or parquet
    parts: Path  # where Parquet parts go until they are merged
    formats: dict[str, layout.Formats] | None = None  # weekly: the first shard's, per source


@dataclass
class ShardOutput:
    truth: truth.ShardTruth
    formats: dict[str, layout.Formats]  # per source: the file format of each period
    persons: int
    events: dict[str, int]  # valid events per source
    chunks: list[Chunk] = field(default_factory=list)  # in file name order


def sizes(customers: int, shard_size: int) -> list[int]:
    """Shard sizes: as few shards as `shard_size` allows, sizes differing by at most one."""
    count = -(-customers // shard_size)
    base, extra = divmod(customers, count)
    return [base + (i < extra) for i in range(count)]


def build_shard(spec: ShardSpec) -> ShardOutput:
    with _no_gc():
        return _build(spec)


@contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic collector would re-scan the millions of live rows again and again (a third of
    the run time) to find nothing: rows, persons and visits form no reference cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(spec: ShardSpec) -> ShardOutput:
    files, output = _files(spec)
    level = layout.GZIP_LEVEL[spec.layout]
    for name in sorted(files):
        source = name.split("/", 1)[0]
        rows = files.pop(name)  # let each file's rows go once encoded
        part = spec.parts / name / f"{spec.index:06d}.arrow"
        chunk = encode(
            name,
            rows,
            _COLUMNS[source],
            _FLATTEN[source],
            header=spec.index == 0,
            level=level,
            part=part,
        )
        output.chunks.append(chunk)
    return output


def _files(spec: ShardSpec) -> tuple[dict[str, list[Row]], ShardOutput]:
    """The shard's files (rows per file name, faults planted) and its truth."""

    def stream(name: str) -> random.Random:
        # str seeds hash with SHA-512: stable everywhere; shard 0 keeps the one-shard streams
        key = f"{spec.seed}:{name}" if spec.index == 0 else f"{spec.seed}:{spec.index}:{name}"
        return random.Random(key)

    ids = IdFactory(stream("ids"), namespace=str(spec.index) if spec.index else "")
    campaigns = schedule(spec.begin, spec.end)
    pop = build_population(
        spec.customers, spec.begin, spec.end, campaigns, stream("people"), ids, spec.first_person
    )
    web_result = web.build_web(pop, stream("web"), ids)
    valid = {
        "web": web_result.rows,
        "crm": crm.build_crm(pop, web_result.signup_at, stream("crm"), ids),
        "email": email.build_email(pop, campaigns, web_result.landings, stream("email"), ids),
    }
    for source, rows in valid.items():
        outside = [r for r in rows if not spec.begin <= r.at < spec.end]
        if outside:
            raise RuntimeError(f"{len(outside)} {source} rows fall outside the window")

    files: dict[str, list[Row]] = {}
    formats: dict[str, layout.Formats] = {}
    fault_rng = stream("faults")
    for source, rows in valid.items():
        chosen = spec.formats[source] if spec.formats else None
        source_files, formats[source] = layout.split(
            source, rows, spec.layout, spec.file_format, chosen
        )
        if source == "email":
            for name, email_rows in source_files.items():
                email.stamp(email_rows, unix=layout.unix_timestamps(name))
        faults.plant(source_files, source, fault_rng, ids)
        files.update(source_files)
    events = {source: len(rows) for source, rows in valid.items()}
    output = ShardOutput(truth.compute(pop, valid, files), formats, len(pop.people), events)
    return files, output
