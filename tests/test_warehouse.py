"""Connections to the warehouse: the config tables follow funnel.yaml; transactions."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from funnel.config import FunnelConfig, IdentityConfig
from funnel.warehouse import connection_config, prepare, transaction


def _junk(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [v for (v,) in con.execute("select value from config.junk_values order by 1").fetchall()]


def test_config_tables_follow_each_change_of_the_config(tmp_path: Path) -> None:
    first = FunnelConfig(identity=IdentityConfig(junk_values=["n/a", "Unknown "]))
    second = FunnelConfig(identity=IdentityConfig(junk_values=["none"]))
    database = tmp_path / "w.duckdb"
    for cfg, expected in (
        (first, ["n/a", "unknown"]),
        (second, ["none"]),
        (first, ["n/a", "unknown"]),
    ):
        with duckdb.connect(str(database), config=connection_config(cfg)) as con:
            prepare(con, cfg)
            assert _junk(con) == expected


def test_an_unchanged_config_is_not_written_again(tmp_path: Path) -> None:
    cfg = FunnelConfig(identity=IdentityConfig(junk_values=["none"]))
    con = duckdb.connect(str(tmp_path / "w.duckdb"), config=connection_config(cfg))
    prepare(con, cfg)
    con.execute("insert into config.junk_values values ('marker')")
    prepare(con, cfg)  # what every asset's connection does
    assert _junk(con) == ["marker", "none"]


class Interrupted(BaseException):
    """What a stop signal raises in a running step."""


def test_a_batch_that_fails_raises_its_own_error_and_leaves_nothing() -> None:
    con = duckdb.connect()
    con.execute("create table loaded (x integer)")
    with pytest.raises(ValueError, match="bad batch"), transaction(con):
        con.execute("insert into loaded values (1)")
        raise ValueError("bad batch")
    assert con.execute("select count(*) from loaded").fetchone() == (0,)
    # An interrupted commit leaves no transaction to roll back: the interruption still surfaces,
    # not DuckDB's "cannot rollback - no transaction is active".
    with pytest.raises(Interrupted), transaction(con):
        con.execute("commit")
        raise Interrupted
