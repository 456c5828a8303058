"""Identity resolution: the identifier graph clustered into customers (iterative SQL)."""

import time

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset

from funnel.identity import resolve_components
from pipelines.resources import WarehouseResource

GRAPH = [
    AssetKey(["intermediate", "int_identity__nodes"]),
    AssetKey(["intermediate", "int_identity__edges"]),
]
COMPONENTS = AssetKey(["intermediate", "int_identity__components"])
HUBS = AssetKey(["intermediate", "int_identity__hubs"])


@multi_asset(
    specs=[
        AssetSpec(
            COMPONENTS,
            deps=GRAPH,
            group_name="intermediate",
            kinds={"duckdb"},
            description="Each identifier's connected component in the identity graph (hubs apart).",
        ),
        AssetSpec(
            HUBS,
            deps=GRAPH,
            group_name="intermediate",
            kinds={"duckdb"},
            description=(
                "Identifiers that would join more than `identity.max_customers_per_identifier` "
                "customers (shared devices, support mailboxes): not used as links."
            ),
        ),
    ]
)
def identity_components(context: AssetExecutionContext, warehouse: WarehouseResource):
    """Cluster the identifier graph into connected components, leaving hubs out as links."""
    started = time.perf_counter()
    with warehouse.connect() as con:
        report = resolve_components(con, warehouse.params)
    seconds = round(time.perf_counter() - started, 3)
    context.log.info(
        f"{report.nodes} identifiers -> {report.components} components, {report.hubs} hubs, "
        f"{report.iterations} steps"
    )
    yield MaterializeResult(
        asset_key=COMPONENTS,
        metadata={
            "dagster/row_count": report.nodes,
            "components": report.components,
            "iterations": report.iterations,
            "seconds": seconds,
        },
    )
    yield MaterializeResult(asset_key=HUBS, metadata={"dagster/row_count": report.hubs})
