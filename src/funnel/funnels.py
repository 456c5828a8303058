"""Funnel attempts: how far each attempt gets, one step at a time.

Every step-1 event starts an attempt; step k is filled by the earliest later event matching it
within the window (strict funnels: the unit's very next event). Python drives one SQL statement
per step index (`sql/funnels/`), all funnels at once; the marts then read the attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from funnel.warehouse import execute, read_sql


@dataclass(frozen=True)
class AttemptsReport:
    attempts: int
    steps: int


def build_attempts(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> AttemptsReport:
    execute(con, read_sql("funnels/attempts_init.sql"), params)
    (max_steps,) = con.execute("select coalesce(max(steps), 0) from config.funnels").fetchone()
    step_sql = read_sql("funnels/attempts_step.sql")
    for step in range(2, max_steps + 1):
        ((advanced,),) = execute(con, step_sql, {**params, "step": step})
        if advanced == 0:
            break
    execute(con, read_sql("funnels/attempts_unordered.sql"), params)
    execute(con, read_sql("funnels/attempts_publish.sql"), params)
    attempts, steps = con.execute(
        "select count(*), (select count(*) from intermediate.int_funnels__attempt_steps) "
        "from intermediate.int_funnels__attempts"
    ).fetchone()
    return AttemptsReport(attempts, steps)
