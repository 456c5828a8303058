"""The Dagster code location: every asset, check, job, schedule, sensor and resource.

Loaded by `dagster dev -w workspace.yaml` (settings from FUNNEL_* environment variables) and
by `funnel run` (settings from its options). Nothing here opens the warehouse at import time.
"""

from dagster import Definitions

from pipelines.assets.funnels import funnel_attempts
from pipelines.assets.identity import identity_components
from pipelines.assets.ingest import raw_crm_events, raw_email_events, raw_web_events
from pipelines.assets.models import model_assets
from pipelines.assets.publish import published_warehouse
from pipelines.checks import schema_checks
from pipelines.jobs import funnel_job
from pipelines.resources import WarehouseResource
from pipelines.schedules import daily_schedule
from pipelines.sensors import inbox_sensor


def build_definitions(warehouse: WarehouseResource) -> Definitions:
    cfg = warehouse.config  # fails fast, naming the key, on an invalid funnel.yaml
    return Definitions(
        assets=[
            raw_web_events,
            raw_crm_events,
            raw_email_events,
            identity_components,
            funnel_attempts,
            *model_assets,
            published_warehouse,
        ],
        asset_checks=schema_checks,
        jobs=[funnel_job],
        schedules=[daily_schedule(cfg)],
        sensors=[inbox_sensor(cfg)],
        resources={"warehouse": warehouse},
    )


defs = build_definitions(WarehouseResource.from_env())
