"""The one record type every source produces, before it is laid out into files."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The event id column of each source (the key for de-duplication).
ID_FIELD = {"web": "messageId", "crm": "event_id", "email": "event_id"}


@dataclass(slots=True, eq=False)  # slots: millions of rows per shard; eq: by identity
class Row:
    source: str  # web, crm or email
    at: datetime  # the UTC instant (decides the weekly file; bad rows keep their origin's)
    data: dict[str, Any]  # web: the nested Segment object; crm/email: column -> value
    person_id: str | None  # ground-truth owner; None only on bad rows
    bad: str | None = None  # reason code when this row is planted as bad
    dup: bool = False  # a re-sent copy of an earlier row
    raw: str | None = field(default=None, repr=False)  # verbatim line of a non-JSON row

    def copy(self) -> Row:
        return Row(self.source, self.at, copy.deepcopy(self.data), self.person_id, raw=self.raw)
