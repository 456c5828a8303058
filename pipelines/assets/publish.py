"""The last step: publish the checked marts to the warehouse analysts read, atomically."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from funnel.models import discover_models
from funnel.publish import publish
from pipelines.resources import WarehouseResource

MARTS = [AssetKey([m.layer, m.name]) for m in discover_models() if m.layer == "marts"]


@asset(key=["published", "warehouse"], group_name="published", deps=MARTS, kinds={"duckdb"})
def published_warehouse(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """The warehouse analysts and dashboards read: every mart and the ingest bookkeeping,
    replaced in one atomic rename once every table is built and every blocking check passed."""
    with warehouse.connect() as con:
        report = publish(con, warehouse.published_path, context.run_id)
    context.log.info(f"published {report.tables} tables to {report.path}")
    return MaterializeResult(
        metadata={
            "path": str(report.path),
            "tables": report.tables,
            "dagster/row_count": report.rows,
            "seconds": round(report.seconds, 3),
        }
    )
