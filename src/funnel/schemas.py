"""Pandera schemas of the output tables: types, nullability, keys and value ranges.

Each schema is validated against every row of its table by a blocking Dagster asset check;
`validate_table` returns what failed with examples. Tables are validated in chunks streamed out
of DuckDB, so memory depends on the chunk size, never on the table's size; uniqueness, which no
chunk can see, runs as SQL over the whole table, from the keys the schema declares. A chunk
carries only the columns whose values a check reads: a nullable column without checks of its
own is validated on the table's types alone (a frame of no rows), the whole table at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

IDENTIFIER_TYPES = ["anonymous_id", "user_id", "email", "contact_id"]
SOURCES = ["web", "crm", "email"]
CHANNELS = [
    "Direct", "Cross-network", "Paid Shopping", "Paid Search", "Paid Social", "Paid Video",
    "Display", "Paid Other", "Organic Shopping", "Organic Social", "Organic Video",
    "Organic Search", "Referral", "Email", "Affiliates", "Audio", "SMS",
    "Mobile Push Notifications", "Unassigned",
]  # fmt: skip
CUSTOMER_ID = r"^cus_[0-9a-f]{16}$"
SESSION_ID = r"^ses_[0-9a-f]{16}$"
Timestamp = pl.Datetime("us")


class _Strict(pa.DataFrameModel):
    class Config:
        strict = True  # exactly these columns: a renamed or dropped column fails the check
        coerce = False


class Customers(_Strict):
    customer_id: str = pa.Field(unique=True, str_matches=CUSTOMER_ID)
    first_seen_at: Timestamp = pa.Field()
    last_seen_at: Timestamp = pa.Field()
    anonymous_ids: pl.Int64 = pa.Field(ge=0)
    user_ids: pl.Int64 = pa.Field(ge=0)
    emails: pl.Int64 = pa.Field(ge=0)
    contact_ids: pl.Int64 = pa.Field(ge=0)
    web_events: pl.Int64 = pa.Field(ge=0)
    crm_events: pl.Int64 = pa.Field(ge=0)
    email_events: pl.Int64 = pa.Field(ge=0)
    sessions: pl.Int64 = pa.Field(ge=0)
    is_hub: bool = pa.Field()

    @pa.dataframe_check
    def first_seen_not_after_last_seen(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("first_seen_at") <= pl.col("last_seen_at"))

    @pa.dataframe_check
    def has_an_identifier(cls, data: PolarsData) -> pl.LazyFrame:
        ids = ["anonymous_ids", "user_ids", "emails", "contact_ids"]
        return data.lazyframe.select(pl.sum_horizontal(ids) >= 1)


PSEUDONYM = r"^em_[0-9a-f]{32}$"


def _emails_pseudonymized(data: PolarsData) -> pl.LazyFrame:
    """No raw e-mail address in a published table: only keyed pseudonyms."""
    return data.lazyframe.select(
        (pl.col("identifier_type") != "email") | pl.col("identifier_value").str.contains(PSEUDONYM)
    )


class CustomerIdentifiers(_Strict):
    identifier_type: str = pa.Field(isin=IDENTIFIER_TYPES)
    identifier_value: str = pa.Field(str_length={"min_value": 1})
    customer_id: str = pa.Field(str_matches=CUSTOMER_ID)
    is_hub: bool = pa.Field()
    first_seen_at: Timestamp = pa.Field()
    last_seen_at: Timestamp = pa.Field()
    records: pl.Int64 = pa.Field(ge=1)

    class Config:
        unique = ["identifier_type", "identifier_value"]

    @pa.dataframe_check
    def emails_are_pseudonymized(cls, data: PolarsData) -> pl.LazyFrame:
        return _emails_pseudonymized(data)


class IdentityHubs(_Strict):
    identifier_type: str = pa.Field(isin=IDENTIFIER_TYPES)
    identifier_value: str = pa.Field()
    customers_joined: pl.Int64 = pa.Field(ge=2)
    customer_id: str = pa.Field(str_matches=CUSTOMER_ID, unique=True)
    records: pl.Int64 = pa.Field(ge=1)
    first_seen_at: Timestamp = pa.Field()
    last_seen_at: Timestamp = pa.Field()

    class Config:
        unique = ["identifier_type", "identifier_value"]

    @pa.dataframe_check
    def emails_are_pseudonymized(cls, data: PolarsData) -> pl.LazyFrame:
        return _emails_pseudonymized(data)


class Events(_Strict):
    event_id: str = pa.Field(str_length={"min_value": 1})
    source: str = pa.Field(isin=SOURCES)
    customer_id: str = pa.Field(str_matches=CUSTOMER_ID)
    session_id: str = pa.Field(nullable=True, str_matches=SESSION_ID)
    occurred_at: Timestamp = pa.Field()
    event_type: str = pa.Field()
    event_name: str = pa.Field()
    page_name: str = pa.Field(nullable=True)
    page_url: str = pa.Field(nullable=True)
    page_path: str = pa.Field(nullable=True)
    page_title: str = pa.Field(nullable=True)
    referrer: str = pa.Field(nullable=True)
    campaign_source: str = pa.Field(nullable=True)
    campaign_medium: str = pa.Field(nullable=True)
    campaign_name: str = pa.Field(nullable=True)
    channel: str = pa.Field(nullable=True)
    revenue: float = pa.Field(nullable=True)
    currency: str = pa.Field(nullable=True)
    order_id: str = pa.Field(nullable=True)
    deal_id: str = pa.Field(nullable=True)
    stage: str = pa.Field(nullable=True)
    score: pl.Int32 = pa.Field(nullable=True, ge=0, le=10)
    email_campaign_id: str = pa.Field(nullable=True)
    email_campaign_name: str = pa.Field(nullable=True)
    link_url: str = pa.Field(nullable=True)
    properties: str = pa.Field(nullable=True)
    source_file: str = pa.Field()
    source_row: pl.Int64 = pa.Field(ge=1)

    class Config:
        unique = ["source", "event_id"]

    @pa.dataframe_check
    def web_events_have_a_session(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("source") == "web") == pl.col("session_id").is_not_null()
        )

    @pa.dataframe_check
    def web_events_have_a_channel(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("source") != "web") | pl.col("channel").is_in(CHANNELS)
        )


class Sessions(_Strict):
    session_id: str = pa.Field(unique=True, str_matches=SESSION_ID)
    customer_id: str = pa.Field(str_matches=CUSTOMER_ID)
    device_id: str = pa.Field()
    tracker_session_id: str = pa.Field(nullable=True)
    started_at: Timestamp = pa.Field()
    ended_at: Timestamp = pa.Field()
    duration_seconds: float = pa.Field(ge=0)
    events: pl.Int64 = pa.Field(ge=1)
    page_views: pl.Int64 = pa.Field(ge=0)
    conversions: pl.Int64 = pa.Field(ge=0)
    revenue: float = pa.Field()
    landing_page_url: str = pa.Field(nullable=True)
    landing_page_path: str = pa.Field(nullable=True)
    referrer: str = pa.Field(nullable=True)
    campaign_source: str = pa.Field(nullable=True)
    campaign_medium: str = pa.Field(nullable=True)
    campaign_name: str = pa.Field(nullable=True)
    campaign_term: str = pa.Field(nullable=True)
    campaign_content: str = pa.Field(nullable=True)
    traffic_source: str = pa.Field()
    traffic_medium: str = pa.Field()
    channel: str = pa.Field(isin=CHANNELS)
    is_engaged: bool = pa.Field()
    is_split: bool = pa.Field()
    is_bounce: bool = pa.Field()

    @pa.dataframe_check
    def ended_not_before_started(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("ended_at") >= pl.col("started_at"))

    @pa.dataframe_check
    def page_views_within_events(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("page_views") <= pl.col("events"))

    @pa.dataframe_check
    def bounce_is_not_engaged(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("is_bounce") != pl.col("is_engaged"))


class CustomerStages(_Strict):
    customer_id: str = pa.Field(str_matches=CUSTOMER_ID)
    stage_index: pl.Int32 = pa.Field(ge=1)
    stage: str = pa.Field()
    entered_at: Timestamp = pa.Field()
    source: str = pa.Field(isin=SOURCES)
    event_id: str = pa.Field()

    class Config:
        unique = ["customer_id", "stage_index"]


class CustomerJourneys(_Strict):
    customer_id: str = pa.Field(unique=True, str_matches=CUSTOMER_ID)
    first_touch_at: Timestamp = pa.Field()
    last_touch_at: Timestamp = pa.Field()
    first_touch_source: str = pa.Field(isin=SOURCES)
    acquisition_channel: str = pa.Field()
    first_touch_campaign: str = pa.Field(nullable=True)
    current_stage: str = pa.Field(nullable=True)
    current_stage_index: pl.Int32 = pa.Field(nullable=True, ge=1)
    stage_entered_at: str = pa.Field(nullable=True)
    touchpoints: pl.Int64 = pa.Field(ge=1)
    sessions: pl.Int64 = pa.Field(ge=0)
    first_purchase_at: Timestamp = pa.Field(nullable=True)
    touchpoints_before_purchase: pl.Int64 = pa.Field(nullable=True, ge=0)
    sessions_before_purchase: pl.Int64 = pa.Field(nullable=True, ge=0)
    days_to_purchase: float = pa.Field(nullable=True, ge=0)

    @pa.dataframe_check
    def touches_in_order(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("first_touch_at") <= pl.col("last_touch_at"))


class Touchpoints(_Strict):
    customer_id: str = pa.Field(str_matches=CUSTOMER_ID)
    touch_index: pl.Int64 = pa.Field(ge=1)
    occurred_at: Timestamp = pa.Field()
    source: str = pa.Field(isin=SOURCES)
    event_id: str = pa.Field()
    event_name: str = pa.Field()
    session_id: str = pa.Field(nullable=True, str_matches=SESSION_ID)
    channel: str = pa.Field(nullable=True)
    page_path: str = pa.Field(nullable=True)
    stage_reached: str = pa.Field(nullable=True)

    class Config:
        unique = ["customer_id", "touch_index"]


def rate() -> object:
    """A share: from 0 to 1 (a new Field each time: pandera binds a Field to one column)."""
    return pa.Field(ge=0, le=1)


@dataclass(frozen=True)
class RowGroups:
    """Rows that a check compares with their neighbours: those with the same `keys`, in `order`.

    A schema declares them as `_row_groups` (pandera ignores private attributes); chunked
    validation then streams the table in this order and never splits a group between chunks.
    """

    keys: tuple[str, ...]
    order: tuple[str, ...]

    @property
    def sort(self) -> list[str]:
        return [*self.keys, *self.order]


FUNNEL_STEPS = RowGroups(keys=("funnel", "breakdown", "breakdown_value"), order=("step_index",))


def _by_funnel_step(data: PolarsData) -> pl.LazyFrame:
    keys = list(FUNNEL_STEPS.keys)
    return data.lazyframe.sort(FUNNEL_STEPS.sort).with_columns(
        next_customers=pl.col("customers").shift(-1).over(keys),
        next_dropped=pl.col("dropped").shift(-1).over(keys),
        next_in_progress=pl.col("in_progress").shift(-1).over(keys),
    )


class FunnelSteps(_Strict):
    funnel: str = pa.Field()
    breakdown: str = pa.Field()
    breakdown_value: str = pa.Field()
    step_index: pl.Int32 = pa.Field(ge=1)
    step_name: str = pa.Field()
    customers: pl.Int64 = pa.Field(ge=0)
    conversion_rate: float = rate()
    overall_conversion_rate: float = rate()
    dropped: pl.Int64 = pa.Field(ge=0)
    in_progress: pl.Int64 = pa.Field(ge=0)
    median_seconds_to_convert: float = pa.Field(nullable=True, ge=0)
    p90_seconds_to_convert: float = pa.Field(nullable=True, ge=0)

    _row_groups = FUNNEL_STEPS  # the two checks below compare a step with the next one

    class Config:
        unique = ["funnel", "breakdown", "breakdown_value", "step_index"]

    @pa.dataframe_check
    def counts_never_grow(cls, data: PolarsData) -> pl.LazyFrame:
        return _by_funnel_step(data).select(
            pl.col("next_customers").is_null() | (pl.col("next_customers") <= pl.col("customers"))
        )

    @pa.dataframe_check
    def every_unit_accounted_for(cls, data: PolarsData) -> pl.LazyFrame:
        """customers(k) = customers(k + 1) + dropped(k + 1) + in_progress(k + 1)."""
        return _by_funnel_step(data).select(
            pl.col("next_customers").is_null()
            | (
                pl.col("customers")
                == pl.col("next_customers") + pl.col("next_dropped") + pl.col("next_in_progress")
            )
        )


class FunnelTrends(_Strict):
    funnel: str = pa.Field()
    period: str = pa.Field(isin=["week", "month"])
    period_start: pl.Date = pa.Field()
    entered: pl.Int64 = pa.Field(ge=1)
    converted: pl.Int64 = pa.Field(ge=0)
    in_progress: pl.Int64 = pa.Field(ge=0)
    conversion_rate: float = rate()

    class Config:
        unique = ["funnel", "period", "period_start"]


class FunnelDropoff(_Strict):
    funnel: str = pa.Field()
    step_index: pl.Int32 = pa.Field(ge=2)
    step_name: str = pa.Field()
    dimension: str = pa.Field(isin=["event", "page", "channel"])
    value: str = pa.Field()
    rank: pl.Int32 = pa.Field(ge=1)
    customers: pl.Int64 = pa.Field(ge=1)
    dropped: pl.Int64 = pa.Field(ge=1)
    share: float = pa.Field(gt=0, le=1)

    class Config:
        unique = ["funnel", "step_index", "dimension", "value"]


KPI_KINDS = ["count", "rate", "ratio", "score"]


def _kpi_ranges(data: PolarsData) -> pl.LazyFrame:
    kind, value = pl.col("kind"), pl.col("value")
    return data.lazyframe.select(
        value.is_null()
        | ((kind == "rate") & value.is_between(0, 1))
        | ((kind == "score") & value.is_between(-100, 100))
        | (kind.is_in(["count", "ratio"]) & (value >= 0))
    )


class KpiDaily(_Strict):
    day: pl.Date = pa.Field()
    kpi: str = pa.Field()
    kind: str = pa.Field(isin=KPI_KINDS)
    value: float = pa.Field(nullable=True)
    numerator: float = pa.Field()
    denominator: float = pa.Field(nullable=True, ge=0)

    class Config:
        unique = ["day", "kpi"]

    @pa.dataframe_check
    def values_in_range(cls, data: PolarsData) -> pl.LazyFrame:
        """Rates in [0, 1], NPS in [-100, 100], counts and ratios not negative."""
        return _kpi_ranges(data)


class KpiByChannel(KpiDaily):
    acquisition_channel: str = pa.Field()

    class Config:
        unique = ["day", "acquisition_channel", "kpi"]


TABLE_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "marts.customers": Customers,
    "marts.customer_identifiers": CustomerIdentifiers,
    "marts.identity_hubs": IdentityHubs,
    "marts.events": Events,
    "marts.sessions": Sessions,
    "marts.customer_stages": CustomerStages,
    "marts.customer_journeys": CustomerJourneys,
    "marts.touchpoints": Touchpoints,
    "marts.funnel_steps": FunnelSteps,
    "marts.funnel_trends": FunnelTrends,
    "marts.funnel_dropoff": FunnelDropoff,
    "marts.kpi_daily": KpiDaily,
    "marts.kpi_by_channel": KpiByChannel,
}


CHUNK_ROWS = 500_000
"""Rows validated at once: a chunk, not the table, bounds the memory a check needs (marts.events:
about 0.8 GB at 100,000 rows, 1.2 GB at 250,000, 1.5 GB at 500,000, 1.8 GB at 1,000,000, whatever
the table's size). Pandera's cost per chunk is about 15 ms: at 10 million events, checking
marts.events took 2.75 s in chunks of 250,000 rows, 2.3 s in chunks of 500,000 or 1,000,000."""
MAX_FAILURE_CASES = 1_000
"""Failure cases kept per column and check (those of the first rows); every one is counted."""
MAX_EXAMPLES = 10
"""Failing rows shown (the first ones)."""
_ROW = "__row__"  # a row's index (DuckDB's rowid), carried beside the table's columns
FAILURE_COLUMNS = {
    "failure_case": pl.String,
    "schema_context": pl.String,
    "column": pl.String,
    "check": pl.String,
    "check_number": pl.Int32,
    "index": pl.Int64,
}


@dataclass(frozen=True)
class Validation:
    table: str
    rows: int
    failures: pl.DataFrame  # failure_case, column, check, index...: empty when the table passed
    examples: pl.DataFrame  # the first failing rows (up to MAX_EXAMPLES), with their index
    counts: pl.DataFrame  # column, check, failures: every failure counted, kept or not

    @property
    def passed(self) -> bool:
        return self.failures.is_empty()

    @property
    def failure_count(self) -> int:
        return int(self.counts.get_column("failures").sum()) if not self.passed else 0

    def summary(self) -> str:
        if self.passed:
            return f"{self.table}: {self.rows} rows valid"
        by_check = self.counts.sort("failures", "column", "check", descending=[True, False, False])
        parts = [f"{c or '(table)'}: {check} ({n} failures)" for c, check, n in by_check.rows()]
        return f"{self.table}: " + "; ".join(parts)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class _UniqueKey:
    """A unique column (Field unique=True) or a unique set of columns (Config.unique)."""

    columns: tuple[str, ...]
    check: str  # pandera's name for it
    column: str  # the column, or the schema's name for a set of columns
    schema_context: str


def _unique_keys(schema: pa.DataFrameSchema, present: list[str]) -> list[_UniqueKey]:
    """The keys the schema declares, as pandera checks them (only columns the table has)."""
    keys = [
        _UniqueKey((name,), "field_uniqueness", name, "Column")
        for name, column in schema.columns.items()
        if column.unique and name in present
    ]
    unique = schema.unique or []
    for columns in [unique] if all(isinstance(c, str) for c in unique) else unique:
        subset = tuple(c for c in columns if c in present)
        if subset:
            keys.append(
                _UniqueKey(subset, "multiple_fields_uniqueness", schema.name, "DataFrameSchema")
            )
    return keys


def _without_uniqueness(schema: pa.DataFrameSchema) -> pa.DataFrameSchema:
    """The schema a chunk is validated with: everything but the keys (checked in SQL)."""
    chunk_schema = schema.update_columns(
        {name: {"unique": False} for name, column in schema.columns.items() if column.unique}
    )
    chunk_schema.unique = None
    return chunk_schema


def _duplicates(
    con: duckdb.DuckDBPyConnection, table: str, key: _UniqueKey
) -> tuple[int, pl.DataFrame, pl.DataFrame]:
    """Rows whose key another row has: how many, and their failure cases and rows (the first ones).

    Candidates are found by a 64-bit hash of the key (a small aggregate even over 100 million
    rows), then confirmed on the key itself; nulls are equal, as in pandera.
    """
    keys = ", ".join(_quote(c) for c in key.columns)
    same = " and ".join(f"c.{_quote(c)} is not distinct from d.{_quote(c)}" for c in key.columns)
    repeated = f"select hash({keys}) as h from {table} group by h having count(*) > 1"
    if not con.sql(f"select count(*) from ({repeated})").fetchall()[0][0]:
        return 0, pl.DataFrame(schema=FAILURE_COLUMNS), pl.DataFrame()  # one scan when valid
    found = con.sql(
        f"""
        with repeated as ({repeated}),
        candidates as (
            select rowid as row, {keys} from {table}
            where hash({keys}) in (select h from repeated)
        ),
        duplicated as (select {keys} from candidates group by all having count(*) > 1)
        select c.row, count(*) over () as n
        from candidates c semi join duplicated d on {same}
        order by c.row
        limit {MAX_FAILURE_CASES}
        """
    ).fetchall()
    if not found:  # only hashes collided
        return 0, pl.DataFrame(schema=FAILURE_COLUMNS), pl.DataFrame()
    rows = _rows(con, table, [row for row, _ in found])
    values = rows.drop(_ROW)
    if len(key.columns) == 1:
        case = values.get_column(key.columns[0]).cast(pl.String)
    else:  # the whole row as JSON, as pandera shows it
        case = pl.Series(values.rows(named=True)).struct.json_encode()
    cases = pl.DataFrame(
        {
            "failure_case": case,
            "schema_context": key.schema_context,
            "column": key.column,
            "check": key.check,
            "check_number": None,
            "index": rows.get_column(_ROW),
        },
        schema=FAILURE_COLUMNS,
    )
    return found[0][1], cases, rows


def _rows(con: duckdb.DuckDBPyConnection, table: str, ids: list[int]) -> pl.DataFrame:
    """Whole rows of `table` by index (`_ROW`), in index order."""
    listed = ", ".join(str(int(i)) for i in ids) or "null"
    return con.sql(
        f"select rowid as {_ROW}, * from {table} where rowid in ({listed}) order by rowid"
    ).pl()


def _group_cut(frame: pl.DataFrame, at: int, groups: RowGroups) -> int | None:
    """Where to end a chunk near row `at` without splitting a group: the start of the group of
    row `at`, or else its end (None: the group goes on past the rows read so far)."""
    keys = frame.select(groups.keys)
    match = pl.all_horizontal(
        pl.col(c).eq_missing(pl.lit(v, dtype=keys.schema[c]))
        for c, v in zip(groups.keys, keys.row(at), strict=True)
    )
    same = keys.select(match).to_series()
    start = at - int(same.head(at).sum())
    if start > 0:
        return start
    rest = same.slice(at).arg_min()  # the first row of the next group, if read yet
    return at + rest if rest is not None and not same[at + rest] else None


def _read_columns(schema: pa.DataFrameSchema, empty: pl.DataFrame) -> list[str]:
    """The columns whose values a check reads, for a table whose frame of no rows, `empty`, is
    valid (every column there, of its type). The others are nullable columns without checks
    that no table-level check reads: their types, already checked, are all there is to check.
    A table-level check reads a column if it fails to run without it."""

    def checked(name: str) -> bool:
        column = schema.columns[name]
        return not column.nullable or bool(column.checks) or column.unique

    def read_by_table_checks(name: str) -> bool:
        frame = empty.drop(name).lazy()
        try:
            for check in schema.checks:
                check(frame).check_output.collect()
        except pl.exceptions.ColumnNotFoundError:
            return True
        return False

    return [name for name in empty.columns if checked(name) or read_by_table_checks(name)]


def _chunks(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[str],
    chunk_rows: int,
    groups: RowGroups | None,
) -> Iterator[pl.DataFrame]:
    """The table's `columns` in chunks of `chunk_rows` rows (at least one chunk, maybe empty),
    each with its rows' index in `_ROW`; in group order when the schema compares neighbouring
    rows."""
    query = f"select rowid as {_ROW}, {', '.join(_quote(c) for c in columns)} from {table}"
    if groups is not None:
        query += " order by " + ", ".join(f"{_quote(c)} nulls first" for c in groups.sort)
        query += ", rowid"
    with con.sql(query).to_arrow_reader(chunk_rows) as reader:
        buffer = pl.from_arrow(reader.schema.empty_table())
        sent = False
        for batch in reader:
            buffer = pl.concat([buffer, pl.from_arrow(batch)], rechunk=False)
            while buffer.height > chunk_rows:
                cut = chunk_rows if groups is None else _group_cut(buffer, chunk_rows, groups)
                if cut is None:
                    break  # one group longer than a chunk: read on
                yield buffer.slice(0, cut)
                buffer, sent = buffer.slice(cut), True
        if buffer.height or not sent:
            yield buffer


class _Collected:
    """Failures and failing rows gathered chunk by chunk, within bounded memory."""

    def __init__(self) -> None:
        self.cases = pl.DataFrame(schema=FAILURE_COLUMNS)
        self.counts: dict[tuple[str, str], int] = {}
        self.examples: pl.DataFrame | None = None
        self.table_wide: set[tuple[str | None, ...]] = set()

    def add(self, cases: pl.DataFrame, count: int | None = None) -> None:
        """Failure cases of a chunk or a key (`count`: how many there are, if not all here)."""
        # a failure without a row (a missing column, a wrong type) shows in every chunk: once
        without_row = cases.filter(pl.col("index").is_null())
        fresh = []
        for i, case in enumerate(without_row.select("failure_case", "column", "check").rows()):
            if case not in self.table_wide:
                self.table_wide.add(case)
                fresh.append(i)
        cases = pl.concat([without_row[fresh], cases.filter(pl.col("index").is_not_null())])
        for column, check, n in cases.group_by("column", "check").len().rows():
            self.counts[column, check] = self.counts.get((column, check), 0) + (count or n)
        kept = pl.concat([self.cases, cases])
        self.cases = kept.filter(pl.int_range(pl.len()).over("column", "check") < MAX_FAILURE_CASES)

    def show(self, rows: pl.DataFrame) -> None:
        """Failing rows (with `_ROW`): the first ones by index are kept."""
        rows = rows.sort(_ROW).head(MAX_EXAMPLES)
        both = rows if self.examples is None else pl.concat([self.examples, rows])
        self.examples = both.unique(_ROW).sort(_ROW).head(MAX_EXAMPLES)

    def validation(self, table: str, rows: int) -> Validation:
        counts = pl.DataFrame(
            [(*key, n) for key, n in self.counts.items()],
            schema={"column": pl.String, "check": pl.String, "failures": pl.Int64},
            orient="row",
        )
        if self.cases.is_empty():
            return Validation(table, rows, pl.DataFrame(), pl.DataFrame(), counts)
        examples = self.examples if self.examples is not None else pl.DataFrame({_ROW: []})
        examples = examples.rename({_ROW: "index"})
        return Validation(table, rows, self.cases, examples, counts)


def validate_table(
    con: duckdb.DuckDBPyConnection, table: str, chunk_rows: int = CHUNK_ROWS
) -> Validation:
    """Validate every row of `table` against its schema, `chunk_rows` rows at a time.

    Each chunk is validated with the schema minus its keys (pandera, lazily: every failure),
    on the columns a check reads (`_read_columns`), when the table's frame of no rows passes;
    the keys are checked in DuckDB over the whole table. Failures carry the row's index in the
    table (its position: the marts are written whole).
    """
    model = TABLE_SCHEMAS[table]
    schema = model.to_schema()
    collected = _Collected()
    empty = con.sql(f"select * from {table} limit 0").pl()
    for key in _unique_keys(schema, empty.columns):
        count, cases, rows = _duplicates(con, table, key)
        collected.add(cases, count)
        if count:
            collected.show(rows)
    chunk_schema = _without_uniqueness(schema)
    groups = getattr(model, "_row_groups", None)
    columns = empty.columns  # a table of the wrong shape: every column, every row
    try:
        chunk_schema.validate(empty, lazy=True)
        read = set(_read_columns(chunk_schema, empty)) | set(groups.sort if groups else ())
        columns = [c for c in empty.columns if c in read]
    except pa.errors.SchemaErrors:
        pass
    chunk_schema = chunk_schema.remove_columns([c for c in empty.columns if c not in columns])
    total, failing_rows = 0, pl.Series(_ROW, [], pl.Int64)
    for chunk in _chunks(con, table, columns, chunk_rows, groups):
        total += chunk.height
        try:
            chunk_schema.validate(chunk.drop(_ROW), lazy=True)
        except pa.errors.SchemaErrors as exc:
            positions = chunk.get_column(_ROW)
            cases = exc.failure_cases.with_columns(
                pl.col("failure_case").cast(pl.String),
                index=positions.gather(exc.failure_cases.get_column("index")),
            ).cast(FAILURE_COLUMNS)
            collected.add(cases.select(list(FAILURE_COLUMNS)))
            failing = pl.concat([failing_rows, cases.get_column("index").drop_nulls()])
            failing_rows = failing.unique().sort().head(MAX_EXAMPLES)
    if len(failing_rows):  # whole rows, read once the chunks are
        collected.show(_rows(con, table, failing_rows.to_list()))
    return collected.validation(table, total)
