"""Identity resolution: cluster the identifier graph into customers.

The graph (`int_identity__nodes`, `int_identity__edges`) is built by SQL models. Clustering into
connected components is iterative, so Python drives the loop while every step runs as SQL in
DuckDB (`sql/identity/`): min-label propagation with pointer jumping, repeated to a fixed point.

Hubs first: an identifier linked to more person keys than `max_customers_per_identifier` is a
candidate; components are computed without the candidates; a candidate whose neighbours fall into
more than that many customers is a hub, not used as a link and reported in
`int_identity__hubs`. The final components are computed without the hubs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from funnel.warehouse import execute, read_sql

MAX_ITERATIONS = 200


@dataclass(frozen=True)
class IdentityReport:
    nodes: int
    components: int
    hubs: int
    iterations: int


def connected_components(con: duckdb.DuckDBPyConnection) -> int:
    """Label the graph minus `cc_excluded` into temp table `cc_labels`; return the steps taken."""
    execute(con, read_sql("identity/components_init.sql"), {})
    step = read_sql("identity/components_step.sql")
    for iteration in range(1, MAX_ITERATIONS + 1):
        ((changed,),) = execute(con, step, {})
        if changed == 0:
            return iteration
    raise RuntimeError(f"identity components did not converge in {MAX_ITERATIONS} steps")


def resolve_components(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> IdentityReport:
    execute(con, read_sql("identity/hub_candidates.sql"), params)
    first = connected_components(con)
    execute(con, read_sql("identity/hubs.sql"), params)
    con.execute(
        "create or replace temp table cc_excluded as "
        "select node_id from intermediate.int_identity__hubs"
    ).fetchall()
    second = connected_components(con)
    execute(con, read_sql("identity/components.sql"), params)
    nodes, components, hubs = con.execute(
        """
        select count(*), count(distinct component_id),
               (select count(*) from intermediate.int_identity__hubs)
        from intermediate.int_identity__components
        """
    ).fetchone()
    return IdentityReport(nodes, components, hubs, first + second)
