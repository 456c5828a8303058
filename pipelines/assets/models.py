"""Staging, intermediate and mart assets: one per SQL model in `sql/<layer>/`.

Each asset rebuilds its table from its SQL file; its description is the file's leading comment
and its dependencies are the tables the SQL reads.
"""

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset

from funnel.models import Model, discover_models
from pipelines.resources import WarehouseResource


def sql_model_asset(model: Model) -> AssetsDefinition:
    deps = [AssetKey(list(ref)) for ref in model.references]

    @asset(
        name=model.name,
        key_prefix=[model.layer],
        group_name=model.layer,
        deps=deps,
        description=model.description,
        kinds={"duckdb", "sql"},
    )
    def _model(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        with warehouse.connect() as con:
            run = model.run(con, warehouse.params)
        context.log.info(f"{run.table}: {run.rows} rows in {run.seconds:.2f}s, {run.parts} part(s)")
        return MaterializeResult(
            metadata={
                "dagster/row_count": run.rows,
                "seconds": round(run.seconds, 3),
                "parts": run.parts,
            }
        )

    return _model


model_assets = [sql_model_asset(m) for m in discover_models()]
