"""Ingest: export files in an inbox -> raw tables, with lineage, a manifest and a quarantine."""

from funnel.ingest.loader import IngestReport, RowCounts, ingest_source
from funnel.ingest.sources import SOURCES, Source

__all__ = ["SOURCES", "IngestReport", "RowCounts", "Source", "ingest_source"]
