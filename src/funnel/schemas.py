"""Pandera schemas of the output tables: types, nullability, keys and value ranges.

Each schema is validated against the whole table (collected, so data checks run, not only the
schema) by a blocking Dagster asset check; `validate_table` returns what failed with examples.
"""

from __future__ import annotations

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


def _by_funnel_step(data: PolarsData) -> pl.LazyFrame:
    keys = ["funnel", "breakdown", "breakdown_value"]
    return data.lazyframe.sort([*keys, "step_index"]).with_columns(
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


@dataclass(frozen=True)
class Validation:
    table: str
    rows: int
    failures: pl.DataFrame  # failure_case, column, check, index: empty when the table passed
    examples: pl.DataFrame  # the failing rows themselves (up to 10)

    @property
    def passed(self) -> bool:
        return self.failures.is_empty()

    def summary(self) -> str:
        if self.passed:
            return f"{self.table}: {self.rows} rows valid"
        by_check = (
            self.failures.group_by("column", "check").len().sort("len", descending=True).rows()
        )
        parts = [f"{column or '(table)'}: {check} ({n} failures)" for column, check, n in by_check]
        return f"{self.table}: " + "; ".join(parts)


def validate_table(con: duckdb.DuckDBPyConnection, table: str) -> Validation:
    schema = TABLE_SCHEMAS[table]
    frame = con.sql(f"select * from {table}").pl()
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures = exc.failure_cases.with_columns(pl.col("failure_case").cast(pl.String))
        index = failures.get_column("index").drop_nulls().unique().sort().head(10)
        examples = frame.with_row_index("index").filter(pl.col("index").is_in(index.implode()))
        return Validation(table, frame.height, failures, examples)
    return Validation(table, frame.height, pl.DataFrame(), pl.DataFrame())
