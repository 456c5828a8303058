"""The warehouse resource: where the inbox, the DuckDB file and funnel.yaml are."""

import os
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import duckdb
from dagster import ConfigurableResource
from dagster_duckdb import DuckDBResource

from funnel.config import (
    DEFAULT_CONFIG,
    DEFAULT_INBOX,
    DEFAULT_WAREHOUSE,
    FunnelConfig,
    default_config_path,
    load_config,
)
from funnel.privacy import pseudonym_key
from funnel.publish import corrupt_file_error, marts_database, work_database
from funnel.warehouse import connection_config, prepare, sql_params


class WarehouseResource(ConfigurableResource):
    """The published DuckDB warehouse, the inbox a run reads and the funnel.yaml it follows.

    Runs write only their private work database (`.work/` beside `database`) and the marts'
    file beside it; the last asset publishes the marts atomically (funnel.publish).
    """

    database: str = DEFAULT_WAREHOUSE
    inbox: str = DEFAULT_INBOX
    config_path: str | None = DEFAULT_CONFIG

    @classmethod
    def from_env(cls) -> "WarehouseResource":
        """Settings for `dagster dev`: FUNNEL_WAREHOUSE, FUNNEL_INBOX, FUNNEL_CONFIG (default:
        funnel.yaml if there is one, else every default)."""
        return cls(
            database=os.environ.get("FUNNEL_WAREHOUSE", DEFAULT_WAREHOUSE),
            inbox=os.environ.get("FUNNEL_INBOX", DEFAULT_INBOX),
            config_path=os.environ.get("FUNNEL_CONFIG", default_config_path()),
        )

    @property
    def config(self) -> FunnelConfig:
        return load_config(self.config_path)  # a small file: read fresh on every use

    @property
    def params(self) -> dict[str, Any]:
        key = pseudonym_key(work_database(self.database).parent)
        return sql_params(self.config, key)

    @property
    def inbox_path(self) -> Path:
        return Path(self.inbox)

    @property
    def published_path(self) -> Path:
        return Path(self.database)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to the work database with the marts' file attached, prepared
        (UTC, schemas, config tables, macros)."""
        work = work_database(self.database)
        work.parent.mkdir(parents=True, exist_ok=True)
        duck = DuckDBResource(database=str(work), connection_config=connection_config(self.config))
        try:
            # get_connection closes only on success: closing() also closes a failed asset's
            # connection, which would keep the file open (and cached) into the next run
            with duck.get_connection() as con, closing(con):
                prepare(con, self.config, marts_database(self.database))
                yield con
        except duckdb.Error as error:
            corrupt = corrupt_file_error(error, self.database)
            if corrupt is None:
                raise
            raise corrupt from error
