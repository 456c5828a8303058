"""Blocking asset checks: every output table validated against its Pandera schema.

A failing check stops the run before anything downstream is built; its metadata names the
table, the failing columns and checks, and shows example rows.
"""

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from funnel.schemas import TABLE_SCHEMAS, validate_table
from pipelines.resources import WarehouseResource


def _markdown(frame: pl.DataFrame) -> MetadataValue:
    """A few rows as a markdown table, for the check's metadata in the UI."""
    if frame.is_empty():
        return MetadataValue.md("none")
    head = frame.head(20)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in head.rows()]
    return MetadataValue.md("\n".join(lines))


def schema_check(table: str) -> AssetChecksDefinition:
    schema, name = table.split(".")

    @asset_check(
        asset=AssetKey([schema, name]),
        name="pandera_schema",
        blocking=True,
        description=f"{table} matches funnel.schemas.{TABLE_SCHEMAS[table].__name__}.",
    )
    def _check(warehouse: WarehouseResource) -> AssetCheckResult:
        with warehouse.connect() as con:
            result = validate_table(con, table)
        return AssetCheckResult(
            passed=result.passed,
            severity=AssetCheckSeverity.ERROR,
            description=result.summary(),
            metadata={
                "rows_checked": result.rows,
                "failures": result.failure_count,
                "failure_cases": _markdown(result.failures),
                "example_rows": _markdown(result.examples),
            },
        )

    return _check


schema_checks = [schema_check(table) for table in TABLE_SCHEMAS]
