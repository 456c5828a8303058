"""The SQL models under `sql/<layer>/`: their names, documentation and dependencies.

A model file holds one SELECT; the runner materializes it as `<layer>.<name>`: a view for the
staging models (they rename, type and clean: cheaper to recompute where they are read than to
write, which took a tenth of the job at 10 million events), a table for the others. Its
leading comment is its documentation (shown in the Dagster UI), and the tables it reads
(`raw.*`, `staging.*`, `intermediate.*`, `marts.*`) are its dependencies.

A table model whose SELECT uses `$part` and `$parts` runs in parts: one per
`warehouse.part_rows` rows of the first table it reads. Its SELECT keeps only the rows of part
`$part`, by a hash of a key whose rows never meet another key's (sessions: the device), so the
parts together are the whole table and each part's joins fit in memory.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb

from funnel.warehouse import SQL_DIR, execute, part_count

LAYERS = ("staging", "intermediate", "marts")
VIEW_LAYERS = ("staging",)
_REFERENCE = re.compile(r"\b(raw|staging|intermediate|marts)\.([a-z0-9_]+)\b")


@dataclass(frozen=True)
class Model:
    layer: str
    name: str

    @property
    def path(self) -> Path:
        return SQL_DIR / self.layer / f"{self.name}.sql"

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"

    @cached_property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def description(self) -> str:
        lines = []
        for line in self.sql.splitlines():
            if not line.startswith("--"):
                break
            lines.append(line[2:].strip())
        return "\n".join(lines)

    @property
    def references(self) -> list[tuple[str, str]]:
        """(schema, table) pairs this model reads, in order of first mention."""
        seen: dict[tuple[str, str], None] = {}
        for match in _REFERENCE.finditer(_strip_comments(self.sql)):
            seen.setdefault((match[1], match[2]), None)
        return list(seen)

    @property
    def kind(self) -> str:
        return "view" if self.layer in VIEW_LAYERS else "table"

    def parts(self, con: duckdb.DuckDBPyConnection, part_rows: int) -> int:
        """How many parts the model runs in: 1 unless its SELECT is written in parts."""
        if "$parts" not in self.sql:
            return 1
        schema, name = self.references[0]
        return part_count(con, f"{schema}.{name}", part_rows)

    def run(self, con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> ModelRun:
        """Rebuild the view or table from the model's SELECT."""
        started = time.perf_counter()
        found, catalog = con.execute(
            "select any_value(table_type), any_value(table_catalog) from information_schema.tables"
            " where table_schema = ? and table_name = ?",
            [self.layer, self.name],
        ).fetchone()
        if found == "VIEW":
            con.execute(f"drop view {self.table}")
        elif found is not None:
            # Drop the table's old version first: with a checkpoint its blocks are free for the
            # new one, so the file does not keep a replaced table's worth of free space (the
            # marts' file is published whole).
            con.execute(f"drop table {self.table}")
            con.execute(f'checkpoint "{catalog}"')
        parts = self.parts(con, params["part_rows"]) if self.kind == "table" else 1
        for part in range(parts):
            verb = (
                f"insert into {self.table}"
                if part
                else f"create or replace {self.kind} {self.table} as"
            )
            execute(con, f"{verb}\n{self.sql}", {**params, "part": part, "parts": parts})
        rows = con.execute(f"select count(*) from {self.table}").fetchone()[0]
        return ModelRun(self.table, rows, time.perf_counter() - started, parts)


@dataclass(frozen=True)
class ModelRun:
    table: str
    rows: int
    seconds: float
    parts: int = 1


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def discover_models() -> list[Model]:
    return [
        Model(layer, path.stem)
        for layer in LAYERS
        for path in sorted((SQL_DIR / layer).glob("*.sql"))
    ]
