"""The daily run, at the time `schedule.cron` (in `schedule.timezone`) of funnel.yaml says."""

from dagster import ScheduleDefinition

from funnel.config import FunnelConfig
from pipelines.jobs import funnel_job


def daily_schedule(cfg: FunnelConfig) -> ScheduleDefinition:
    return ScheduleDefinition(
        name="funnel_daily",
        job=funnel_job,
        cron_schedule=cfg.schedule.cron,
        execution_timezone=cfg.schedule.timezone,
        description="Runs the whole pipeline once a day on the inbox.",
    )
