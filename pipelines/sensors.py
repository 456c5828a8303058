"""Start a run when new export files land in the inbox.

The sensor never opens the warehouse (a DuckDB file has one writer): it compares a fingerprint
of the inbox listing (paths, sizes, modification times) with the one it saw last. Ingestion
itself decides, by content hash, which files are new.
"""

import hashlib
from pathlib import Path

from dagster import (
    DagsterRunStatus,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from funnel.config import FunnelConfig
from funnel.ingest import SOURCES
from pipelines.jobs import funnel_job
from pipelines.resources import WarehouseResource

ACTIVE = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]


def inbox_fingerprint(inbox: Path) -> str:
    digest = hashlib.sha256()
    for source in sorted(SOURCES):
        folder = inbox / source
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                digest.update(
                    f"{path.relative_to(inbox)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode()
                )
    return digest.hexdigest()


def inbox_sensor(cfg: FunnelConfig) -> SensorDefinition:
    @sensor(
        name="funnel_inbox",
        job=funnel_job,
        minimum_interval_seconds=cfg.sensor.interval_seconds,
        description="Starts the pipeline when files are added to or changed in the inbox.",
    )
    def _sensor(context: SensorEvaluationContext, warehouse: WarehouseResource):
        fingerprint = inbox_fingerprint(warehouse.inbox_path)
        if fingerprint == context.cursor:
            return SkipReason("no new files in the inbox")
        running = context.instance.get_runs(
            filters=RunsFilter(job_name=funnel_job.name, statuses=ACTIVE), limit=1
        )
        if running:
            return SkipReason("a run is in progress; new files are picked up after it")
        context.update_cursor(fingerprint)
        return RunRequest(run_key=fingerprint)

    return _sensor
