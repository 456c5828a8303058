"""Funnel attempts: how far the attempts of every funnel get (iterative SQL, one step each)."""

import time

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset

from funnel.funnels import build_attempts
from pipelines.resources import WarehouseResource

STEP_EVENTS = AssetKey(["intermediate", "int_funnels__step_events"])
UNIT_KEYS = AssetKey(["intermediate", "int_funnels__unit_keys"])
ATTEMPTS = AssetKey(["intermediate", "int_funnels__attempts"])
ATTEMPT_STEPS = AssetKey(["intermediate", "int_funnels__attempt_steps"])


@multi_asset(
    specs=[
        AssetSpec(
            ATTEMPTS,
            deps=[STEP_EVENTS, UNIT_KEYS],
            group_name="intermediate",
            kinds={"duckdb"},
            description=(
                "Funnel attempts (each starts at a step-1 event) with the furthest step reached "
                "within the window and whether an exclusion voided it: every attempt of strict "
                "funnels and of funnels with step windows or exclusions; for the other ordered "
                "funnels the two per unit that decide its result (the earliest and the latest "
                "at its furthest step)."
            ),
        ),
        AssetSpec(
            ATTEMPT_STEPS,
            deps=[STEP_EVENTS],
            group_name="intermediate",
            kinds={"duckdb"},
            description="The event time that filled each step of each attempt.",
        ),
    ]
)
def funnel_attempts(context: AssetExecutionContext, warehouse: WarehouseResource):
    """Advance the funnel attempts step by step, the earliest qualifying event each time."""
    started = time.perf_counter()
    with warehouse.connect() as con:
        report = build_attempts(con, warehouse.params)
    seconds = round(time.perf_counter() - started, 3)
    context.log.info(
        f"{report.attempts} attempts, {report.steps} steps filled in {seconds}s,"
        f" {report.parts} part(s)"
    )
    yield MaterializeResult(
        asset_key=ATTEMPTS,
        metadata={
            "dagster/row_count": report.attempts,
            "seconds": seconds,
            "parts": report.parts,
        },
    )
    yield MaterializeResult(asset_key=ATTEMPT_STEPS, metadata={"dagster/row_count": report.steps})
