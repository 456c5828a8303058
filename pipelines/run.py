"""Run the whole job in process: the code path of `funnel run`, the tests and the benchmarks."""

from dagster import DagsterEventType, DagsterInstance, ExecuteInProcessResult

from pipelines.definitions import build_definitions
from pipelines.resources import WarehouseResource


def run_job(
    warehouse: WarehouseResource,
    log_level: str = "WARNING",
    instance: DagsterInstance | None = None,
) -> ExecuteInProcessResult:
    """Materialize every asset and run every check, exactly as the schedule's runs do. Pass an
    `instance` to read the run's event log afterwards (the benchmarks time each step)."""
    job = build_definitions(warehouse).resolve_job_def("funnel")
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    if instance is not None:
        return job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=run_config
        )
    with DagsterInstance.ephemeral() as ephemeral:
        return job.execute_in_process(
            instance=ephemeral, raise_on_error=False, run_config=run_config
        )


def failure_lines(result: ExecuteInProcessResult) -> list[str]:
    """What failed, in the user's terms: each failed check, and the error of each failed step."""
    lines = []
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            check = event.asset_check_evaluation_data
            if not check.passed:
                lines.append(f"check failed: {check.description}")
        elif event.is_step_failure:
            error = event.step_failure_data.error
            cause = (error.cause or error) if error else None
            message = cause.message.strip() if cause else "unknown error"
            lines.append(f"step {event.step_key} failed: {message}")
    return lines
