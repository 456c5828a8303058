"""Shared test helpers: hand-made exports written to tmp_path, and real pipeline runs."""

from __future__ import annotations

import csv
import gzip
import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import ExecuteInProcessResult

from funnel.privacy import ENV_KEY, pseudonym
from funnel.publish import marts_database, work_database
from funnel.warehouse import attach_marts
from pipelines.resources import WarehouseResource
from pipelines.run import failure_lines, run_job

T0 = datetime(2026, 8, 3, 9, 0, 0, tzinfo=UTC)
KEY = "test-pseudonym-key"
os.environ[ENV_KEY] = KEY  # runs in tests pseudonymize with a known key


def published(identifier_type: str, value: str) -> str:
    """How an identifier shows in the marts: e-mail addresses as keyed pseudonyms."""
    return pseudonym(value, KEY) if identifier_type == "email" else value


CRM_COLUMNS = [
    "event_id", "contact_id", "email", "user_id", "event_type", "occurred_at", "stage",
    "deal_id", "amount", "currency", "score", "channel",
]  # fmt: skip
EMAIL_COLUMNS = ["event_id", "email", "event", "timestamp", "campaign_id", "campaign_name", "url"]


def at(seconds: float = 0, base: datetime = T0) -> str:
    """An ISO 8601 UTC timestamp `seconds` after T0, millisecond precision."""
    return (
        (base + timedelta(seconds=seconds))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def web(
    message_id: str,
    seconds: float,
    anon: str | None = None,
    user: str | None = None,
    *,
    type: str = "page",
    event: str | None = None,
    name: str | None = "Home",
    session: str | None = None,
    url: str = "https://shop.example.com/",
    referrer: str | None = None,
    campaign: dict[str, str] | None = None,
    email: str | None = None,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One Segment-spec event."""
    page = {"url": url, "path": "/" + url.split("/", 3)[3].split("?")[0], "referrer": referrer}
    context: dict[str, Any] = {"page": page}
    if campaign:
        context["campaign"] = campaign
    if session:
        context["sessionId"] = session
    record: dict[str, Any] = {
        "messageId": message_id,
        "type": type,
        "anonymousId": anon,
        "userId": user,
        "timestamp": at(seconds),
        "context": context,
        "properties": properties or {},
    }
    if type == "track":
        record["event"] = event
    if type == "page":
        record["name"] = name
    if type == "identify" and email is not None:
        record["traits"] = {"email": email}
    return record


def write_jsonl(path: Path, records: Iterable[dict[str, Any] | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
    return path


def write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def crm(event_id: str, seconds: float, event_type: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": event_id, "event_type": event_type, "occurred_at": at(seconds), **fields}


def mail(event_id: str, seconds: float, email: str, event: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "email": email,
        "event": event,
        "timestamp": at(seconds),
        **fields,
    }


class Pipeline:
    """Runs the real Dagster job on an inbox into a warehouse file, as `funnel run` does."""

    def __init__(self, root: Path) -> None:
        self.inbox = root / "inbox"
        self.warehouse = root / "warehouse" / "funnel.duckdb"
        self.config_path: Path | None = None
        for source in ("web", "crm", "email"):
            (self.inbox / source).mkdir(parents=True, exist_ok=True)

    def configure(self, text: str) -> None:
        self.config_path = self.inbox.parent / "funnel.yaml"
        self.config_path.write_text(text, encoding="utf-8")

    def run(self, expect_success: bool = True) -> ExecuteInProcessResult:
        resource = WarehouseResource(
            database=str(self.warehouse),
            inbox=str(self.inbox),
            config_path=str(self.config_path) if self.config_path else None,
        )
        result = run_job(resource, log_level="ERROR")
        if expect_success:
            assert result.success, failure_lines(result)
        return result

    def query(
        self, sql: str, params: list[Any] | None = None, *, work: bool = False
    ) -> list[tuple[Any, ...]]:
        """Query the published warehouse, or (`work`) the run's work database, which also holds
        the raw, staging and intermediate tables, with the marts' file attached."""
        database = work_database(self.warehouse) if work else self.warehouse
        with duckdb.connect(str(database), read_only=True) as con:
            if work:
                attach_marts(con, marts_database(self.warehouse), read_only=True)
            return con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        return self.query(sql, params)[0][0]


@pytest.fixture
def pipeline(tmp_path: Path) -> Pipeline:
    return Pipeline(tmp_path)
