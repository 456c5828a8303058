"""Connections to the warehouse: the config tables follow funnel.yaml."""

from __future__ import annotations

from pathlib import Path

import duckdb

from funnel.config import FunnelConfig, IdentityConfig
from funnel.warehouse import connection_config, prepare


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
