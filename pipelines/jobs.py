"""The one job: materialize the whole asset graph (what `funnel run`, the schedule and the
sensor all run)."""

from dagster import AssetSelection, define_asset_job, in_process_executor

# One DuckDB file has one writer: steps run one after another in a single process.
funnel_job = define_asset_job(
    name="funnel",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Ingest new exports, resolve identities, sessionize and rebuild every mart.",
)
