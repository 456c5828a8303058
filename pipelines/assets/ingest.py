"""Raw layer: each source's export files, loaded once each into its raw table."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from funnel.ingest import SOURCES, IngestReport, ingest_source
from pipelines.resources import WarehouseResource


def _ingest(
    context: AssetExecutionContext, warehouse: WarehouseResource, source: str
) -> MaterializeResult:
    with warehouse.connect() as con:
        report = ingest_source(
            con,
            SOURCES[source],
            warehouse.inbox_path,
            warehouse.params,
            context.run_id,
            batch_bytes=warehouse.config.ingest.batch_megabytes * 2**20,
        )
        total = con.execute(f"select count(*) from {SOURCES[source].table}").fetchone()[0]
    context.log.info(
        f"{source}: {len(report.files_loaded)} new files, {len(report.files_skipped)} already "
        f"ingested; {report.rows.read} rows read = {report.rows.loaded} loaded + "
        f"{report.rows.quarantined} quarantined + {report.rows.duplicate} duplicates"
    )
    return MaterializeResult(metadata=_metadata(report, total))


def _metadata(report: IngestReport, total: int) -> dict[str, object]:
    return {
        "dagster/row_count": total,
        "files_loaded": len(report.files_loaded),
        "files_skipped": len(report.files_skipped),
        "rows_read": report.rows.read,
        "rows_loaded": report.rows.loaded,
        "rows_quarantined": report.rows.quarantined,
        "rows_duplicate": report.rows.duplicate,
        "seconds": round(report.seconds, 3),
        "new_files": MetadataValue.md("\n".join(f"- {f}" for f in report.files_loaded) or "none"),
    }


@asset(key=["raw", "web_events"], group_name="raw", kinds={"duckdb"})
def raw_web_events(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """Web events (Segment spec) from `<inbox>/web/`: new files only, bad rows to quarantine."""
    return _ingest(context, warehouse, "web")


@asset(key=["raw", "crm_events"], group_name="raw", kinds={"duckdb"})
def raw_crm_events(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """CRM activity log from `<inbox>/crm/`: new files only, bad rows to quarantine."""
    return _ingest(context, warehouse, "crm")


@asset(key=["raw", "email_events"], group_name="raw", kinds={"duckdb"})
def raw_email_events(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """E-mail platform events from `<inbox>/email/`: new files only, bad rows to quarantine."""
    return _ingest(context, warehouse, "email")
