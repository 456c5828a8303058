"""Benchmark: the whole job against the floor, the peer and a naive baseline, in one run.

    python -m bench.harness --events 1000000        (make bench EVENTS=1000000)

For N events it generates (or reuses, under .bench/) synthetic exports, runs the Dagster job
exactly as `funnel run` does, and prints one table: wall time, peak memory and the cores kept
busy (CPU seconds per second), per asset and in total, events per second, and side by side on
the same files:
- floor: DuckDB alone loading every field of the files into a table per source and sorting it
  once by identifier and time (no pipeline that keeps every field ingests and orders the data
  faster); beside it, the earlier floor of three columns (id, identifier, time);
- peer: ClickHouse's windowFunnel (chdb) computing the checkout funnel on the same events, next
  to our funnel SQL computing the same funnel alone on the same events (both read the same CSV
  of the funnel's events), with a check that the step counts are equal;
- naive: the pandas code an analyst would write for sessions and the checkout funnel (only up
  to `--pandas-max` events).
Results also go to .bench/results-<N>-<format>.json so runs can be compared over time. Timings are
measured here, never asserted in the tests (machines are noisy).

`--memory-limit` and `--part-rows` override `warehouse:` in funnel.yaml for the job: a run with a
tenth of the memory on a tenth of the events approximates the largest size's spilling, and shows
which part size suits a memory limit. The results then name the settings.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from funnel.config import Funnel, FunnelConfig, load_config
from funnel.funnels import build_attempts
from funnel.generate import generate
from funnel.publish import work_database
from funnel.warehouse import connection_config, prepare, sql_params

REPO = Path(__file__).resolve().parents[1]
EVENTS_PER_PERSON = 28  # about what the generator writes per person (all sources)
CHECKOUT = "checkout"


@dataclass
class Result:
    events: int
    file_format: str
    recorded_at: str = ""
    pipeline_seconds: float = 0.0
    pipeline_peak_mb: float = 0.0
    pipeline_cores: float = 0.0  # CPU seconds per second of the job
    steps: dict[str, dict[str, float]] = field(default_factory=dict)
    floor_seconds: float = 0.0  # every field loaded and sorted (`floor`)
    floor_three_columns_seconds: float = 0.0  # the earlier, narrower floor
    funnel_seconds: float = 0.0
    chdb_seconds: float | None = None
    chdb_matches: bool | None = None
    alone_seconds: float | None = None  # our funnel SQL, the checkout funnel alone
    alone_matches: bool | None = None
    pandas_seconds: float | None = None
    pandas_customers_at_step_1: int | None = None
    failure: str | None = None  # why the job failed (its steps so far are still reported)
    warehouse: dict[str, Any] = field(default_factory=dict)  # overrides of funnel.yaml's
    parts: dict[str, int] = field(default_factory=dict)  # steps that ran in more than one part


class Sampler:
    """The process's resident memory and CPU time (all threads), sampled every 20 ms (Linux)."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float, float]] = []  # (time, MB, CPU seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            cpu = os.times()
            self.samples.append((time.time(), _rss_mb(), cpu.user + cpu.system))
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> float:
        inside = [mb for at, mb, _ in self.samples if start <= at <= end]
        return max(inside, default=0.0)

    def cores(self, start: float = 0.0, end: float = float("inf")) -> float:
        """CPU seconds per second between the first and last samples in the span: how many
        cores the process kept busy (the machine's count when every one is)."""
        inside = [(at, cpu) for at, _, cpu in self.samples if start <= at <= end]
        if len(inside) < 2 or inside[-1][0] == inside[0][0]:
            return 0.0
        return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def exports(events: int, cache: Path, file_format: str) -> Path:
    """Synthetic exports of about `events` events (one file per source and day), generated once
    per size and format, as `funnel generate --layout daily` writes them."""
    folder = cache / f"exports-{events}-{file_format}"
    if not (folder / "truth").exists():
        shutil.rmtree(folder, ignore_errors=True)
        generate(
            folder,
            customers=max(40, events // EVENTS_PER_PERSON),
            days=90,
            seed=42,
            layout="daily",
            file_format=file_format,
        )
    return folder


def run_pipeline(
    inbox: Path, warehouse: Path, result: Result, config: Path = REPO / "funnel.yaml"
) -> None:
    from dagster import DagsterEventType, DagsterInstance

    from pipelines.resources import WarehouseResource
    from pipelines.run import failure_lines, run_job

    shutil.rmtree(warehouse.parent, ignore_errors=True)
    resource = WarehouseResource(database=str(warehouse), inbox=str(inbox), config_path=str(config))
    with DagsterInstance.ephemeral() as instance, Sampler() as sampler:
        started = time.time()
        outcome = run_job(resource, log_level="CRITICAL", instance=instance)
        result.pipeline_seconds = time.time() - started
        if not outcome.success:
            result.failure = "; ".join(failure_lines(outcome))
        ends = (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE)
        spans: dict[str, list[float]] = defaultdict(list)
        for entry in instance.all_logs(outcome.run_id):
            kind = entry.dagster_event.event_type if entry.dagster_event else None
            if kind == DagsterEventType.STEP_START or kind in ends:
                spans[entry.step_key].append(entry.timestamp)
            if kind == DagsterEventType.ASSET_MATERIALIZATION:
                parts = entry.asset_materialization.metadata.get("parts")
                if parts is not None and parts.value > 1:
                    result.parts[entry.step_key] = parts.value
    result.pipeline_peak_mb = sampler.peak()
    result.pipeline_cores = sampler.cores()
    for step, (start, *end) in sorted(spans.items(), key=lambda kv: kv[1][0]):
        finish = end[0] if end else started + result.pipeline_seconds  # cut short by a failure
        result.steps[step] = {
            "seconds": finish - start,
            "peak_mb": sampler.peak(start, finish),
            "cores": sampler.cores(start, finish),
        }
    result.funnel_seconds = sum(
        span["seconds"]
        for step, span in result.steps.items()
        if step.startswith(("intermediate__int_funnels", "funnel_attempts"))
    )


# Each source's files in the harness's formats, read by DuckDB's own readers.
_READERS = {
    ".jsonl": "read_json(?, format = 'newline_delimited', union_by_name = true,"
    " ignore_errors = true)",
    ".csv": "read_csv(?, union_by_name = true, all_varchar = true, ignore_errors = true)",
    ".parquet": "read_parquet(?, union_by_name = true)",
}
# Each source's event id, customer identifier and time, as its exports name them.
_KEYS = {
    "web": ('"messageId"', '"anonymousId"', '"timestamp"'),
    "crm": ("event_id", "contact_id", "occurred_at"),
    "email": ("event_id", "email", '"timestamp"'),
}


def floor(inbox: Path, work: Path) -> float:
    """The floor: DuckDB alone loading every field of every file into a table per source, then
    sorting each table once by customer identifier and time. The job keeps every field, so no
    pipeline that does can ingest and order the data faster."""
    with _scratch_database(work / "floor.duckdb") as con:
        started = time.perf_counter()
        for source, (_, who, ts) in _KEYS.items():
            for n, (reader, files) in enumerate(_files(inbox / source)):
                con.execute(f"create table {source}_{n} as select * from {reader}", [files])
                con.execute(
                    f"create table {source}_{n}_sorted as"
                    f" select * from {source}_{n} order by {who}, {ts}"
                )
        return time.perf_counter() - started


def floor_three_columns(inbox: Path, work: Path) -> float:
    """The floor as measured before (kept to compare with earlier results): only each event's
    id, identifier and time, from every file into one table, then one sort."""
    with _scratch_database(work / "floor-three-columns.duckdb") as con:
        started = time.perf_counter()
        con.execute("create table events (id varchar, who varchar, ts varchar)")
        for source, (event_id, who, ts) in _KEYS.items():
            for reader, files in _files(inbox / source):
                con.execute(
                    f"insert into events select cast({event_id} as varchar),"
                    f" cast({who} as varchar), cast({ts} as varchar) from {reader}",
                    [files],
                )
        con.execute("create table sorted as select * from events order by who, ts")
        return time.perf_counter() - started


@contextmanager
def _scratch_database(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A database for one measurement, deleted afterwards: at 100M a floor's tables take tens
    of GB."""
    try:
        with duckdb.connect(str(path)) as con:
            yield con
    finally:
        path.unlink(missing_ok=True)


def _files(folder: Path) -> list[tuple[str, list[str]]]:
    """The folder's files grouped by format: (reader, paths) for each format present."""
    groups = []
    for suffix, reader in _READERS.items():
        files = sorted(str(p) for p in folder.iterdir() if suffix in "".join(p.suffixes))
        if files:
            groups.append((reader, files))
    return groups


def step_names(funnel: Funnel) -> list[str]:
    """The event name of each step (the checkout funnel's steps match on the name alone)."""
    return [s.event for s in funnel.steps]


def checkout_events(warehouse: Path) -> tuple[Funnel, list[tuple[str, int, str, str]], list[int]]:
    """The checkout funnel, its step events (customer, epoch ms, event name, event id) and our
    customers per step in the job's `funnel_steps`."""
    funnel = next(f for f in load_config(REPO / "funnel.yaml").funnels if f.name == CHECKOUT)
    steps = step_names(funnel)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select customer_id, epoch_ms(occurred_at), event_name, event_id from marts.events"
            f" where source = 'web' and event_name in ({', '.join('?' for _ in steps)})",
            steps,
        ).fetchall()
        ours = [
            c
            for (c,) in con.execute(
                "select customers from marts.funnel_steps"
                " where funnel = ? and breakdown = 'all' order by step_index",
                [CHECKOUT],
            ).fetchall()
        ]
    return funnel, rows, ours


def peer(warehouse: Path, work: Path, result: Result) -> None:
    """The checkout funnel alone, on the same events (a CSV of them, written untimed): our
    funnel SQL, and ClickHouse's windowFunnel through chdb."""
    funnel, rows, ours = checkout_events(warehouse)
    path = work / "checkout.csv"
    path.write_text("".join(f"{c},{t},{e},{i}\n" for c, t, e, i in rows))
    result.alone_seconds, alone = funnel_alone(funnel, path, work)
    result.alone_matches = alone == ours
    try:
        import chdb
    except ImportError:
        return
    steps = step_names(funnel)
    conditions = ", ".join(f"e = '{s}'" for s in steps)
    started = time.perf_counter()
    answer = chdb.query(
        f"select level, count() from (select windowFunnel({funnel.window * 1000})(t, {conditions})"
        f" as level from file('{path}', 'CSV', 'c String, t UInt64, e String, i String')"
        " group by c) group by level",
        "CSV",
    )
    result.chdb_seconds = time.perf_counter() - started
    levels = dict(tuple(map(int, line.split(","))) for line in str(answer).split())
    theirs = [sum(n for lv, n in levels.items() if lv >= k) for k in range(1, len(steps) + 1)]
    result.chdb_matches = theirs == ours


def funnel_alone(funnel: Funnel, path: Path, work: Path) -> tuple[float, list[int]]:
    """Our funnel SQL (`funnel.funnels`) with only `funnel` configured, on the events of `path`
    numbered as `int_funnels__step_events` numbers them; the seconds and customers per step."""
    cfg = FunnelConfig(funnels=[funnel])
    database = work / "alone.duckdb"
    database.unlink(missing_ok=True)
    with duckdb.connect(str(database), config=connection_config(cfg)) as con:
        prepare(con, cfg)
        steps = step_names(funnel)
        started = time.perf_counter()
        # (as the job: the unit keys number the units, the step events carry the key only)
        con.execute(
            "create temp table events as select * from read_csv(?, header = false, columns = {"
            "'c': 'VARCHAR', 't': 'BIGINT', 'e': 'VARCHAR', 'i': 'VARCHAR'})",
            [str(path)],
        )
        con.execute(
            """
            create table intermediate.int_funnels__unit_keys as
            select ? as funnel, c as unit_id, row_number() over (order by c) as unit_key,
                c as customer_id
            from (select distinct c from events)
            """,
            [funnel.name],
        )
        con.execute(
            """
            create table intermediate.int_funnels__step_events as
            select
                k.funnel,
                cast(list_position(?, e.e) as integer) as step_index,
                cast(null as integer) as exclude_from,
                cast(null as integer) as exclude_to,
                k.unit_key,
                row_number() over (partition by k.unit_key order by e.t, e.i) as unit_seq,
                'web' as source,
                e.i as event_id,
                make_timestamp(e.t * 1000) as occurred_at
            from events as e
            inner join intermediate.int_funnels__unit_keys as k on k.unit_id = e.c
            """,
            [steps],
        )
        build_attempts(con, sql_params(cfg))
        furthest = con.execute(
            """
            select list(
                (select count(*) from (
                    select max(level) as level from intermediate.int_funnels__attempts
                    where not is_voided group by unit_id
                ) where level >= k) order by k)
            from range(1, ? + 1) as t(k)
            """,
            [len(steps)],
        ).fetchone()[0]
        return time.perf_counter() - started, furthest


def naive_pandas(inbox: Path, warehouse: Path, result: Result) -> None:
    """What an analyst would write: read the web exports, sessionize, one funnel."""
    import pandas as pd

    funnel, _, _ = checkout_events(warehouse)
    steps, window = step_names(funnel), funnel.window
    started = time.perf_counter()
    frames = []
    for path in sorted((inbox / "web").iterdir()):
        if ".jsonl" in path.name:
            opener = gzip.open if path.suffix == ".gz" else open
            records = []
            with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    try:
                        records.append(json.loads(line))
                    except ValueError:
                        continue
            frame = pd.DataFrame.from_records(
                records, columns=["anonymousId", "userId", "event", "timestamp"]
            )
        elif path.suffix == ".parquet":
            frame = pd.read_parquet(path, columns=["anonymousId", "userId", "event", "timestamp"])
        else:
            frame = pd.read_csv(path, usecols=["anonymousId", "userId", "event", "timestamp"])
        frames.append(frame)
    web = pd.concat(frames, ignore_index=True)
    web["at"] = pd.to_datetime(web["timestamp"], utc=True, errors="coerce", format="ISO8601")
    web = web.dropna(subset=["at", "anonymousId"]).sort_values(["anonymousId", "at"])
    gap = web.groupby("anonymousId")["at"].diff() > pd.Timedelta(minutes=30)
    web["session"] = gap.groupby(web["anonymousId"]).cumsum()
    web["who"] = web.groupby("anonymousId")["userId"].transform("first").fillna(web["anonymousId"])
    levels = {}
    limit = pd.Timedelta(seconds=window)
    for who, group in web[web["event"].isin(steps)].groupby("who"):
        names, times = list(group["event"]), list(group["at"])
        best = 0
        for i, name in enumerate(names):
            if name != steps[0]:
                continue
            level = 1
            for later, at in zip(names[i + 1 :], times[i + 1 :], strict=True):
                if at - times[i] > limit or level == len(steps):
                    break
                if later == steps[level]:
                    level += 1
            best = max(best, level)
        levels[who] = best
    result.pandas_seconds = time.perf_counter() - started
    # its identities are per user id or device, not resolved across devices and sources, so its
    # counts differ from ours: it is a baseline for time, not for answers
    result.pandas_customers_at_step_1 = sum(1 for v in levels.values() if v >= 1)


def report(result: Result) -> str:
    settings = "".join(f", {key} {value}" for key, value in result.warehouse.items())
    lines = [
        f"journey-funnel benchmark: {result.events:,} events ({result.file_format}{settings})",
        "",
        f"{'step':<48} {'seconds':>9} {'peak MB':>9} {'cores':>6}",
    ]
    for step, span in result.steps.items():
        parts = f"   {result.parts[step]} parts" if step in result.parts else ""
        lines.append(
            f"{step:<48} {span['seconds']:>9.2f} {span['peak_mb']:>9.0f}"
            f" {span['cores']:>6.1f}{parts}"
        )
    rate = result.events / result.pipeline_seconds if result.pipeline_seconds else 0
    lines += [
        f"{'whole job (funnel run)':<48} {result.pipeline_seconds:>9.2f} "
        f"{result.pipeline_peak_mb:>9.0f} {result.pipeline_cores:>6.1f}",
        f"{'events per second':<48} {rate:>9,.0f}",
        "",
    ]
    if result.failure is not None:
        lines.append(f"THE JOB FAILED (times above: until then): {result.failure}")

    def ratio(floor_seconds: float) -> str:
        # a failed job's time is not a whole job's: no ratio then
        if result.failure is not None or not floor_seconds:
            return ""
        return f"   job / floor = {result.pipeline_seconds / floor_seconds:.1f}x"

    lines += [
        f"{'floor: DuckDB load (every field) + one sort':<48} {result.floor_seconds:>9.2f}"
        f"{ratio(result.floor_seconds)}",
        f"{'floor, three columns only (as before)':<48} "
        f"{result.floor_three_columns_seconds:>9.2f}{ratio(result.floor_three_columns_seconds)}",
        f"{'our funnel steps (all funnels)':<48} {result.funnel_seconds:>9.2f}",
    ]
    if result.alone_seconds is not None:
        lines.append(
            f"{'ours: checkout funnel alone, same events':<48} {result.alone_seconds:>9.2f}"
            f"   same counts as the job: {result.alone_matches}"
        )
    if result.chdb_seconds is not None:
        lines.append(
            f"{'peer: chdb windowFunnel (checkout)':<48} {result.chdb_seconds:>9.2f}"
            f"   same counts as the job: {result.chdb_matches}"
        )
    if result.pandas_seconds is not None:
        lines.append(
            f"{'naive: pandas sessions + checkout funnel':<48} {result.pandas_seconds:>9.2f}"
            "   (naive identities: counts differ by design)"
        )
    return "\n".join(lines)


def run(
    events: int,
    cache: Path,
    pandas_max: int = 5_000_000,
    file_format: str = "jsonl.gz",
    warehouse_settings: dict[str, Any] | None = None,
) -> Result:
    """Generate or reuse the exports, run the job (with `warehouse_settings` over funnel.yaml's
    `warehouse:`), the floor, the peer and the baseline; save and return the results."""
    inbox = exports(events, cache, file_format)
    work = cache / f"work-{events}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    warehouse = work / "warehouse" / "funnel.duckdb"
    result = Result(events, file_format, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    result.warehouse = dict(warehouse_settings or {})
    config = yaml.safe_load((REPO / "funnel.yaml").read_text(encoding="utf-8"))
    config["warehouse"] = {**config.get("warehouse", {}), **result.warehouse}
    (work / "funnel.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    run_pipeline(inbox, warehouse, result, work / "funnel.yaml")
    # The job's working files are no longer needed (the peer reads the published marts); at 100M
    # the floors' tables and sorts did not fit on the disk beside them.
    shutil.rmtree(work_database(warehouse).parent, ignore_errors=True)
    result.floor_seconds = floor(inbox, work)
    result.floor_three_columns_seconds = floor_three_columns(inbox, work)
    if result.failure is None:  # the peer and the baseline read the job's marts
        peer(warehouse, work, result)
        if events <= pandas_max:
            naive_pandas(inbox, warehouse, result)
    settings = "".join(f"-{key}={value}" for key, value in result.warehouse.items())
    saved = cache / f"results-{events}-{file_format}{settings}.json"
    saved.write_text(json.dumps(asdict(result), indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=REPO / ".bench")
    parser.add_argument("--pandas-max", type=int, default=5_000_000)
    parser.add_argument("--format", choices=["jsonl.gz", "parquet"], default="jsonl.gz")
    parser.add_argument("--memory-limit", help="warehouse.memory_limit for the job, e.g. 700MB")
    parser.add_argument("--part-rows", type=int, help="warehouse.part_rows for the job")
    args = parser.parse_args()
    settings = {"memory_limit": args.memory_limit, "part_rows": args.part_rows}
    result = run(
        args.events,
        args.cache,
        args.pandas_max,
        args.format,
        {key: value for key, value in settings.items() if value is not None},
    )
    print(report(result))
    if result.failure is not None:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
