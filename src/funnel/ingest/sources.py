"""The three sources and the fields each export carries (see the README's input reference).

A field is named by its path in the export: a JSON path for `.jsonl` files, the column name in
flat files (CSV, Parquet), where nested fields are flattened with dots (`context.campaign.source`).
Raw tables keep every field as received (text), under a snake_case column name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EXTENSIONS = (".jsonl", ".jsonl.gz", ".csv", ".csv.gz", ".parquet")


def column_name(path: str) -> str:
    """'context.campaign.source' -> 'context_campaign_source', 'messageId' -> 'message_id'."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", path).lower()
    return snake.replace(".", "_")


@dataclass(frozen=True)
class Source:
    name: str
    id_field: str
    fields: tuple[str, ...]
    # JSON objects kept whole (as JSON text); in flat files they are rebuilt from `<name>.*` columns
    objects: tuple[str, ...] = ()
    # at least one of these must be a column of a flat file
    required_any: tuple[tuple[str, ...], ...] = ()

    @property
    def table(self) -> str:
        return f"raw.{self.name}_events"

    @property
    def columns(self) -> list[str]:
        return [column_name(f) for f in (*self.fields, *self.objects)]


WEB = Source(
    name="web",
    id_field="messageId",
    fields=(
        "messageId",
        "type",
        "event",
        "name",
        "anonymousId",
        "userId",
        "timestamp",
        "context.page.url",
        "context.page.path",
        "context.page.referrer",
        "context.page.title",
        "context.campaign.source",
        "context.campaign.medium",
        "context.campaign.name",
        "context.campaign.term",
        "context.campaign.content",
        "context.userAgent",
        "context.sessionId",
    ),
    objects=("properties", "traits"),
    required_any=(("messageId",), ("type",), ("timestamp",), ("anonymousId", "userId")),
)

CRM = Source(
    name="crm",
    id_field="event_id",
    fields=(
        "event_id",
        "contact_id",
        "email",
        "user_id",
        "event_type",
        "occurred_at",
        "stage",
        "deal_id",
        "amount",
        "currency",
        "score",
        "channel",
    ),
    required_any=(("event_id",), ("event_type",), ("occurred_at",)),
)

EMAIL = Source(
    name="email",
    id_field="event_id",
    fields=("event_id", "email", "event", "timestamp", "campaign_id", "campaign_name", "url"),
    required_any=(("event_id",), ("email",), ("event",), ("timestamp",)),
)

SOURCES: dict[str, Source] = {s.name: s for s in (WEB, CRM, EMAIL)}
