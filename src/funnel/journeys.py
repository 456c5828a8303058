"""Journey stages and funnels as configured in `funnel.yaml`, and how their matchers reach SQL.

A *matcher* selects events of `marts.events`: optional `source`, optional `event` (the event
name), and `where` conditions such as `"score >= 9"`, `"stage == 'customer'"`,
`"page_name in [Pricing, Product]"` or `"properties.plan == 'pro'"`. Matchers are written to the
`config` schema as rows (never as SQL text), and `sql/intermediate/int_funnels__step_events.sql`
evaluates them all in one static query.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from funnel.durations import Duration

# Columns of marts.events a condition may test; anything else must be `properties.<key>`.
EVENT_FIELDS = (
    "source", "event_type", "event_name", "page_name", "page_url", "page_path", "page_title",
    "referrer", "campaign_source", "campaign_medium", "campaign_name", "channel", "revenue",
    "currency", "order_id", "deal_id", "stage", "score", "email_campaign_id",
    "email_campaign_name", "link_url",
)  # fmt: skip
OPERATORS = ("==", "!=", ">=", "<=", ">", "<", "in")
_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(==|!=|>=|<=|>|<|\bin\b)\s*(.+?)\s*$")


class Condition(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    op: str
    values: tuple[str | float, ...]  # one value, or the list of an `in`


def parse_condition(text: Any) -> Condition:
    if isinstance(text, Condition):
        return text
    match = _CONDITION.match(str(text))
    if not match:
        raise ValueError(
            f'{text!r} is not a condition like "score >= 9" or "stage == \'customer\'" '
            f"(operators: {', '.join(OPERATORS)})"
        )
    field, op, literal = match.groups()
    if field not in EVENT_FIELDS and not (field.startswith("properties.") and len(field) > 11):
        raise ValueError(
            f"{field!r} is not an event field; use one of {', '.join(EVENT_FIELDS)} "
            "or properties.<key>"
        )
    try:
        value = yaml.safe_load(literal)
    except yaml.YAMLError as exc:
        raise ValueError(f"{literal!r} is not a value in the condition {text!r}") from exc
    values = value if isinstance(value, list) else [value]
    if op == "in" and not isinstance(value, list):
        raise ValueError(f"'in' needs a list, e.g. \"{field} in [a, b]\"")
    if op != "in" and isinstance(value, list):
        raise ValueError(f"{op!r} compares with one value; use 'in' for a list")
    if not values or any(v is None or isinstance(v, (bool, dict, list)) for v in values):
        raise ValueError(f"{literal!r}: compare with numbers or strings")
    return Condition(
        field=field,
        op="==" if op == "in" else op,
        values=tuple(v if isinstance(v, (int, float)) else str(v) for v in values),
    )


ConditionText = Annotated[Condition, BeforeValidator(parse_condition)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Matcher(_Strict):
    """Events of `source` (any if omitted) named `event` (any if omitted) meeting every `where`."""

    source: Literal["web", "crm", "email"] | None = None
    event: str | None = None
    where: list[ConditionText] = Field(default_factory=list)


class Stage(_Strict):
    name: str = Field(min_length=1)
    match: list[Matcher] = Field(min_length=1)
    occurrence: int = Field(
        1, ge=1, description="The stage is entered at the n-th matching event (2: a repeat)."
    )


class Step(Matcher):
    """One matcher inline (`event`, `source`, `where`), or several under `any_of`."""

    name: str | None = None
    any_of: list[Matcher] = Field(default_factory=list)
    occurrence: int = Field(1, ge=1, description="Filled by the n-th matching event.")
    window: Duration | None = Field(
        None, description="This step must follow the previous step within this time."
    )

    @model_validator(mode="after")
    def _one_way(self) -> Step:
        if self.any_of and (self.source or self.event or self.where):
            raise ValueError("give either event/source/where or any_of, not both")
        return self

    def matchers(self) -> list[Matcher]:
        return self.any_of or [Matcher(source=self.source, event=self.event, where=self.where)]

    @classmethod
    def from_stage(cls, stage: Stage) -> Step:
        return cls(name=stage.name, any_of=stage.match, occurrence=stage.occurrence)


class Exclusion(Matcher):
    between: tuple[int, int] | None = Field(
        None, description="Steps (1-based) between which the event voids an attempt."
    )


Breakdown = Literal["acquisition_channel", "first_touch_campaign", "entry_cohort_month"] | str


class Funnel(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")
    steps: list[Step] = Field(min_length=2)
    window: Duration = Field(30 * 86400, description="From the step-1 event, inclusive.")
    order: Literal["ordered", "strict", "unordered"] = "ordered"
    count_by: Literal["customer", "session"] = "customer"
    exclusions: list[Exclusion] = Field(default_factory=list)
    breakdowns: list[Breakdown] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Funnel:
        for index, step in enumerate(self.steps, start=1):
            if step.window is None:
                continue
            if index == 1 or self.order == "unordered" or step.window > self.window:
                raise ValueError(
                    f"step {index}: a step window applies from the previous step of an ordered "
                    "or strict funnel, and cannot exceed the funnel's window"
                )
        for exclusion in self.exclusions:
            if exclusion.between is None:
                continue
            first, last = exclusion.between
            if not 1 <= first < last <= len(self.steps):
                raise ValueError(
                    f"exclusion between {list(exclusion.between)} must name two steps "
                    f"from 1 to {len(self.steps)}, the first before the last"
                )
        return self

    def step_names(self) -> list[str]:
        return [s.name or s.event or f"step {i}" for i, s in enumerate(self.steps, start=1)]


Row = tuple[Any, ...]


def config_tables(funnels: list[Funnel]) -> dict[str, tuple[str, list[Row]]]:
    """The funnels as rows of the `config` tables the funnel SQL models read."""
    tables: dict[str, tuple[str, list[Row]]] = {
        "funnels": ("funnel varchar, window_seconds bigint, order_mode varchar, "
                    "count_by varchar, steps integer", []),
        "funnel_steps": ("funnel varchar, step_index integer, step_name varchar, "
                         "occurrence integer, window_seconds bigint", []),
        "funnel_matchers": ("matcher_id integer, funnel varchar, step_index integer, "
                            "exclude_from integer, exclude_to integer, source varchar, "
                            "event_name varchar", []),
        "matcher_conditions": ("matcher_id integer, condition_id integer, field varchar, "
                               "op varchar, value_text varchar, value_number double", []),
        "funnel_breakdowns": ("funnel varchar, breakdown varchar", []),
    }  # fmt: skip

    def add_matcher(funnel: str, matcher: Matcher, step: int | None, between: Row) -> None:
        matcher_id = len(tables["funnel_matchers"][1]) + 1
        tables["funnel_matchers"][1].append(
            (matcher_id, funnel, step, *between, matcher.source, matcher.event)
        )
        for condition_id, condition in enumerate(matcher.where, start=1):
            for value in condition.values:
                number = float(value) if isinstance(value, (int, float)) else None
                tables["matcher_conditions"][1].append(
                    (matcher_id, condition_id, condition.field, condition.op, str(value), number)
                )

    for funnel in funnels:
        n = len(funnel.steps)
        tables["funnels"][1].append((funnel.name, funnel.window, funnel.order, funnel.count_by, n))
        for index, (step, name) in enumerate(
            zip(funnel.steps, funnel.step_names(), strict=True), start=1
        ):
            tables["funnel_steps"][1].append(
                (funnel.name, index, name, step.occurrence, step.window)
            )
            for matcher in step.matchers():
                add_matcher(funnel.name, matcher, index, (None, None))
        for exclusion in funnel.exclusions:
            add_matcher(funnel.name, exclusion, None, exclusion.between or (1, n))
        for breakdown in funnel.breakdowns:
            tables["funnel_breakdowns"][1].append((funnel.name, breakdown))
    return tables
