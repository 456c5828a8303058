"""The `funnel` command: `funnel run` builds the warehouse, `funnel generate` writes exports."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

from funnel.config import (
    DEFAULT_INBOX,
    DEFAULT_WAREHOUSE,
    ConfigError,
    default_config_path,
    load_config,
)
from funnel.ingest.readers import FileError
from funnel.schemas import TABLE_SCHEMAS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="funnel", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="materialize the whole pipeline through Dagster")
    run.add_argument("--inbox", default=DEFAULT_INBOX, help="folder with web/, crm/, email/")
    run.add_argument("--warehouse", default=DEFAULT_WAREHOUSE)
    run.add_argument("--config", help="settings file (default: funnel.yaml if present)")
    run.add_argument(
        "--log-level",
        default="CRITICAL",
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        help="Dagster's log level (default: only this command's own summary or errors)",
    )

    gen = commands.add_parser("generate", help="write synthetic exports with planted truth")
    gen.add_argument("--customers", type=int, default=2000)
    gen.add_argument("--days", type=int, default=90)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument(
        "--layout",
        choices=["weekly", "daily"],
        default="weekly",
        help="weekly: a file per source and ISO week in mixed formats (the sample); "
        "daily: a file per source and UTC day in --format (exports at scale)",
    )
    gen.add_argument(
        "--format",
        dest="file_format",
        choices=["jsonl.gz", "parquet"],
        help="file format of the daily layout (default jsonl.gz)",
    )
    gen.add_argument("--workers", type=int, default=2, help="processes generating shards")

    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return run_pipeline(Path(args.inbox), Path(args.warehouse), args.config, args.log_level)
        return generate(args)
    except (ConfigError, FileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run_pipeline(
    inbox: Path, warehouse: Path, config: str | None, log_level: str = "CRITICAL"
) -> int:
    """Run the Dagster job in process, exactly as the schedule does, then print a summary."""
    config_path = config or default_config_path()
    load_config(config_path)  # fail fast, before Dagster starts
    if not inbox.is_dir():
        raise FileError(f"{inbox}: inbox folder not found (it holds web/, crm/ and email/)")

    from pipelines.resources import WarehouseResource
    from pipelines.run import failure_lines, run_job

    resource = WarehouseResource(database=str(warehouse), inbox=str(inbox), config_path=config_path)
    started = time.perf_counter()
    result = run_job(resource, log_level)
    seconds = time.perf_counter() - started
    if not result.success:
        print(f"run failed after {seconds:.1f}s:", file=sys.stderr)
        for line in failure_lines(result):
            print(f"  {line}", file=sys.stderr)
        return 1
    print(summary(warehouse, seconds))
    return 0


def summary(warehouse: Path, seconds: float) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        lines = [f"built {warehouse} in {seconds:.1f}s"]
        files = con.execute(
            "select source, count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined),"
            " sum(rows_duplicate) from meta.ingested_files group by source order by source"
        ).fetchall()
        for source, n, read, loaded, quarantined, duplicate in files:
            lines.append(
                f"  {source:<6} {n:>4} files  {read:>8} rows read = {loaded} loaded"
                f" + {quarantined} quarantined + {duplicate} duplicates"
            )
        for table in TABLE_SCHEMAS:  # every output table
            rows = con.execute(f"select count(*) from {table}").fetchone()[0]
            lines.append(f"  {table:<28} {rows:>8} rows")
    return "\n".join(lines)


def generate(args: argparse.Namespace) -> int:
    from funnel.generate import generate as write_exports

    started = time.perf_counter()
    try:
        result = write_exports(
            args.out,
            args.customers,
            args.days,
            args.seed,
            layout=args.layout,
            file_format=args.file_format,
            workers=args.workers,
        )
    except ValueError as exc:  # arguments out of range
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    shards = result["shards"]
    events = ", ".join(f"{n} {source}" for source, n in result["events"].items())
    print(
        f"wrote {len(result['files'])} files ({result['bytes'] / 1e6:.1f} MB) to {args.out} "
        f"in {seconds:.1f}s ({shards} shard{'s' * (shards > 1)}): {result['persons']} people, "
        f"events {events}, {result['bad_rows']} bad rows, {result['duplicates']} duplicates; "
        f"planted truth in {args.out / 'truth'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
