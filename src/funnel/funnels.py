"""Funnel attempts: how far each attempt gets, one step at a time.

Every step-1 event starts an attempt; step k is filled by the earliest later event matching it
within the window (strict funnels: the unit's very next event). Python drives one SQL script
per step index (`sql/funnels/`), all funnels at once, on two paths:
- plain ordered funnels (no step windows, no exclusions): attempts that share their step-2
  event share every later step, so one *chain* per step-2 event is followed, by sorted sweeps
  rather than joins, and only the two attempts per unit that decide its result are kept
  (`chains_*.sql`);
- the others follow every attempt (`attempts_*.sql`): a sweep where only the earliest event
  matters, candidate joins where step windows need every event that reached a step.
Units never share an attempt, so the attempts are built in parts of units (one per
`warehouse.part_rows` step events, by a hash of the unit) for each part's joins to fit in
memory. The marts then read the attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from funnel.warehouse import execute, part_count, read_sql


@dataclass(frozen=True)
class AttemptsReport:
    attempts: int
    steps: int
    parts: int


def build_attempts(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> AttemptsReport:
    execute(con, read_sql("funnels/attempts_tables.sql"), params)
    parts = part_count(con, "intermediate.int_funnels__step_events", params["part_rows"])
    for part in range(parts):
        if parts == 1:  # the whole table: read where it is, not copied
            con.execute(
                "create or replace temp view fa_step_events as"
                " select * from intermediate.int_funnels__step_events"
            )
        else:
            con.execute(
                "create or replace temp table fa_step_events as"
                " select * from intermediate.int_funnels__step_events"
                " where in_part(unit_key, $part, $parts)",
                {"parts": parts, "part": part},
            )
        _build_part(con, params)
    attempts, steps = con.execute(
        "select count(*), (select count(*) from intermediate.int_funnels__attempt_steps) "
        "from intermediate.int_funnels__attempts"
    ).fetchone()
    return AttemptsReport(attempts, steps, parts)


def _build_part(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
    """The attempts of the units in `fa_step_events`, added to the attempts' tables."""
    execute(con, read_sql("funnels/attempts_init.sql"), params)
    exact_steps, unordered, plain_steps = con.execute(
        """
        select
            coalesce(max(steps) filter (where order_mode <> 'unordered' and not is_plain), 0),
            count(*) filter (where order_mode = 'unordered') > 0,
            coalesce(max(steps) filter (where is_plain), 0)
        from fa_funnels
        """
    ).fetchone()
    _advance(con, "funnels/attempts_step.sql", params, range(2, exact_steps + 1))
    if unordered:
        execute(con, read_sql("funnels/attempts_unordered.sql"), params)
    if plain_steps:
        execute(con, read_sql("funnels/chains_init.sql"), params)
        _advance(con, "funnels/chains_step.sql", params, range(3, plain_steps + 1))
        execute(con, read_sql("funnels/chains_attempts.sql"), params)
    execute(con, read_sql("funnels/attempts_publish.sql"), params)


def _advance(
    con: duckdb.DuckDBPyConnection, script: str, params: dict[str, Any], steps: range
) -> None:
    """Run a step script for each step index until no attempt or chain advances."""
    sql = read_sql(script)
    for step in steps:
        ((advanced,),) = execute(con, sql, {**params, "step": step})
        if advanced == 0:
            break
