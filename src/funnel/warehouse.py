"""The DuckDB warehouse: connection settings, configuration tables, and running SQL models.

Settings reach SQL two ways, never by formatting values into SQL text:
- scalars as named parameters (`$inactivity_timeout_seconds`), bound at execution;
- lists (junk identifiers, channel source lists) as small tables in the `config` schema,
  written from `funnel.yaml` by every connection when it changed, which the models join like
  any table.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from funnel.config import FunnelConfig
from funnel.journeys import config_tables

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
SCHEMAS = ("config", "meta", "raw", "staging", "intermediate")
# The catalog of the marts' own database file (see `attach_marts`).
MARTS_CATALOG = "marts_db"
# Tables of models that were replaced, dropped so that a work database from an earlier version
# keeps no stale copy (int_identity__event_customers: by int_identity__profile_customers).
RETIRED_TABLES = ("intermediate.int_identity__event_customers",)
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


def connection_config(cfg: FunnelConfig) -> dict[str, Any]:
    """DuckDB settings for every connection: rows in any order, the operator's resource limits."""
    # Tables are sets: a model writes its rows in any order, in parallel (the funnel step events
    # wrote in half the time). Steps that number rows in read order ask for order (`keep_order`).
    settings: dict[str, Any] = {"preserve_insertion_order": False}
    wh = cfg.warehouse
    if wh.memory_limit:
        settings["memory_limit"] = wh.memory_limit
    if wh.threads:
        settings["threads"] = wh.threads
    if wh.temp_directory:
        settings["temp_directory"] = wh.temp_directory
    return settings


def connect(database: Path | str, cfg: FunnelConfig) -> duckdb.DuckDBPyConnection:
    """A prepared read-write connection (for tests and tools; Dagster uses its resource)."""
    con = duckdb.connect(str(database), config=connection_config(cfg))
    prepare(con, cfg)
    return con


def keep_order(con: duckdb.DuckDBPyConnection) -> None:
    """Make this connection keep rows in the order they are read (line numbers; the published
    copy, which then has the row order of the checked tables)."""
    con.execute("set preserve_insertion_order = true")


def prepare(con: duckdb.DuckDBPyConnection, cfg: FunnelConfig, marts: Path | None = None) -> None:
    """Set UTC, create the schemas, write the config tables and macros the SQL models use.
    The `marts` schema is in the database file `marts` if given (see `attach_marts`), else in
    the connection's own database."""
    con.execute("set TimeZone = 'UTC'")  # every *_at column is UTC
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
    for table in RETIRED_TABLES:
        con.execute(f"drop table if exists {table}")
    if marts is None:
        con.execute("create schema if not exists marts")
    else:
        # a work database written before the marts had their own file: its marts go (rebuilt
        # in the marts' file)
        (work,) = con.execute("select current_database()").fetchone()
        con.execute(f'drop schema if exists "{work}".marts cascade')
        attach_marts(con, marts)
    _write_config_tables(con, cfg)
    for path in sorted((SQL_DIR / "macros").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))


def attach_marts(con: duckdb.DuckDBPyConnection, marts: Path, read_only: bool = False) -> None:
    """Keep the `marts` schema in its own database file, `marts`, which publishing copies whole
    (a file copy, not a rewrite of every table). The models still say `marts.events`: the
    search path finds the schema in the attached file."""
    (work,) = con.execute("select current_database()").fetchone()
    mode = " (read_only)" if read_only else ""
    con.execute(f"attach if not exists ? as {MARTS_CATALOG}{mode}", [str(marts)])
    if not read_only:
        con.execute(f"create schema if not exists {MARTS_CATALOG}.marts")
    con.execute(f"""set search_path = '"{work}".main,{MARTS_CATALOG}.marts'""")


def _write_config_tables(con: duckdb.DuckDBPyConnection, cfg: FunnelConfig) -> None:
    ch, ident = cfg.channels, cfg.identity
    tables: dict[str, tuple[str, list[tuple[Any, ...]]]] = {
        "junk_values": ("value varchar", [(v.strip().lower(),) for v in ident.junk_values]),
        "junk_email_patterns": (
            "pattern varchar",
            [(p.strip().lower(),) for p in ident.junk_email_patterns],
        ),
        "channel_sources": (
            "source varchar, category varchar",
            [(s.lower(), "search") for s in ch.search_sources]
            + [(s.lower(), "social") for s in ch.social_sources]
            + [(s.lower(), "video") for s in ch.video_sources]
            + [(s.lower(), "shopping") for s in ch.shopping_sources],
        ),
        "internal_hosts": ("host varchar", [(h.lower(),) for h in ch.internal_hosts]),
        "conversion_events": ("event_name varchar", [(e,) for e in cfg.sessions.conversion_events]),
        **config_tables(cfg.all_funnels()),
    }
    # Every asset's connection prepares the database: the tables are rewritten only when they
    # change (47 rewrites took a second of the job at any size).
    digest = hashlib.sha256(repr(sorted(tables.items())).encode()).hexdigest()
    con.execute("create table if not exists config.written (digest varchar)")
    if con.execute("select count(*) from config.written where digest = ?", [digest]).fetchone()[0]:
        return
    with transaction(con):
        con.execute("delete from config.written")
        con.execute("insert into config.written values (?)", [digest])
        for name, (columns, rows) in tables.items():
            con.execute(f"create or replace table config.{name} ({columns})").fetchall()
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                con.executemany(f"insert into config.{name} values ({marks})", rows)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block in one transaction: committed if it completes, rolled back if not.
    The block's own error is the one raised: DuckDB may have ended the transaction already (an
    interrupted commit does), and the rollback's "no transaction is active" would hide why."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        with suppress(duckdb.TransactionException):
            con.execute("rollback")
        raise
    con.execute("commit")


def sql_params(cfg: FunnelConfig, pseudonym_key: str | None = None) -> dict[str, Any]:
    """Scalar settings available to every SQL model as `$name`."""
    s, ident = cfg.sessions, cfg.identity
    now = datetime.now(UTC).replace(tzinfo=None)
    return {
        "earliest_event_at": datetime.combine(cfg.ingest.earliest, datetime.min.time()),
        "latest_event_at": now + timedelta(seconds=cfg.ingest.max_future),
        "inactivity_timeout_seconds": s.inactivity_timeout,
        "max_session_seconds": s.max_duration,
        "engaged_min_seconds": s.engaged_min_duration,
        "engaged_min_page_views": s.engaged_min_page_views,
        "max_customers_per_identifier": ident.max_customers_per_identifier,
        "purchase_stage": cfg.journey.purchase_stage,
        "dropoff_top": cfg.dropoff.top_values,
        "pseudonym_key": pseudonym_key,
        "part_rows": cfg.warehouse.part_rows,
    }


def bind(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The subset of `params` a statement references (DuckDB rejects unused ones)."""
    names = set(_PARAM.findall(sql))
    missing = {name for name in names if params.get(name) is None}
    if missing:
        raise KeyError(f"SQL references parameters without a value: {sorted(missing)}")
    return {name: params[name] for name in names}


def execute(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """Run a script of one or more statements, each bound to the parameters it references;
    return the rows of the last one."""
    rows: list[tuple[Any, ...]] = []
    for statement in con.extract_statements(sql):
        rows = con.execute(statement.query, bind(statement.query, params) or None).fetchall()
    return rows


def part_count(con: duckdb.DuckDBPyConnection, table: str, part_rows: int) -> int:
    """How many parts a computation over `table` runs in: one per `part_rows` of its rows."""
    (rows,) = con.execute(f"select count(*) from {table}").fetchone()
    return max(1, math.ceil(rows / part_rows))


def read_sql(relative: str) -> str:
    return (SQL_DIR / relative).read_text(encoding="utf-8")
