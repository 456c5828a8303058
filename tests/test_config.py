"""funnel.yaml: defaults, partial files, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from funnel.config import ConfigError, FunnelConfig, load_config
from funnel.durations import parse_duration

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("24h", 86400), ("10s", 10), ("14d", 1209600), (90, 90)]
)
def test_durations(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["30", "30 minutes", "-5m", "0s", "1w", True])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_missing_file_means_defaults() -> None:
    cfg = load_config(None)
    assert cfg.sessions.inactivity_timeout == 1800
    assert cfg.sessions.max_duration == 86400
    assert cfg.identity.max_customers_per_identifier == 2


def test_repository_config_is_valid_and_states_the_defaults() -> None:
    cfg = load_config(REPO / "funnel.yaml")
    defaults = FunnelConfig()
    # every section it writes out repeats the defaults; it adds the example funnels and a DuckDB
    # memory limit that fits this project's machines
    assert cfg.model_copy(update={"funnels": [], "warehouse": defaults.warehouse}) == defaults
    assert [f.name for f in cfg.funnels] == ["checkout", "checkout_in_session"]
    assert cfg.warehouse.memory_limit == "5GB"


def test_a_file_with_one_section_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "funnel.yaml"
    path.write_text("sessions:\n  inactivity_timeout: 45m\n")
    cfg = load_config(path)
    assert cfg.sessions.inactivity_timeout == 2700
    assert cfg.identity == FunnelConfig().identity


def test_an_empty_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "funnel.yaml"
    path.write_text("")
    assert load_config(path) == FunnelConfig()


GOOD_STEPS = "steps: [{event: A}, {event: B}]"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("sesions:\n  inactivity_timeout: 30m\n", ["funnel.yaml", "sesions", "unknown key"]),
        ("sessions:\n  timeout: 30m\n", ["sessions.timeout", "unknown key"]),
        ("sessions:\n  inactivity_timeout: soon\n", ["sessions.inactivity_timeout", "soon"]),
        ("identity:\n  max_customers_per_identifier: 0\n", ["max_customers_per_identifier"]),
        ("- a\n- b\n", ["top level must be a mapping"]),
        ("sessions: [unclosed\n", ["not valid YAML"]),
        ("funnels:\n  - {name: f, steps: []}\n", ["funnels.0.steps", "at least 2"]),
        ("funnels:\n  - {name: f}\n", ["funnels.0.steps", "Field required"]),
        (f"funnels:\n  - {{name: f, window: soon, {GOOD_STEPS}}}\n", ["funnels.0.window"]),
        (f"funnels:\n  - {{name: f, window: 0s, {GOOD_STEPS}}}\n", ["funnels.0.window"]),
        (f"funnels:\n  - {{name: f, order: random, {GOOD_STEPS}}}\n", ["funnels.0.order"]),
        (f"funnels:\n  - {{name: f, colour: red, {GOOD_STEPS}}}\n", ["funnels.0.colour"]),
        (
            f"funnels:\n  - {{name: f, {GOOD_STEPS},"
            " exclusions: [{event: X, between: [2, 1]}]}\n",
            ["exclusion between [2, 1]"],
        ),
        (
            "funnels:\n  - {name: f, steps: [{event: A, where: ['score >>= 9']}, {event: B}]}\n",
            ["funnels.0.steps.0.where.0", "is not a value in the condition 'score >>= 9'"],
        ),
        (
            "funnels:\n  - {name: f, steps: [{event: A, where: ['colour == red']}, {event: B}]}\n",
            ["'colour' is not an event field"],
        ),
        (
            f"funnels:\n  - {{name: f, {GOOD_STEPS}}}\n  - {{name: f, {GOOD_STEPS}}}\n",
            ["funnel names must be unique"],
        ),
        (f"funnels:\n  - {{name: journey, {GOOD_STEPS}}}\n", ["not 'journey'"]),
        (
            "journey:\n  stages: [{name: a, match: [{}]}, {name: b, match: [{event: B}]}]\n",
            ["purchase_stage 'purchase' is not one of"],
        ),
    ],
)
def test_errors_name_the_file_and_key(tmp_path: Path, text: str, names: list[str]) -> None:
    path = tmp_path / "funnel.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    for name in names:
        assert name in str(info.value)


def test_a_named_but_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def _keys(model: type, prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            keys += _keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def test_readme_documents_every_setting() -> None:
    readme = (REPO / "README.md").read_text()
    missing = [key for key in _keys(FunnelConfig) if f"`{key}`" not in readme]
    assert missing == []


def test_conditions_parse_numbers_text_and_lists() -> None:
    from funnel.journeys import parse_condition

    assert parse_condition("score >= 9").values == (9,)
    assert parse_condition("stage == 'customer'").values == ("customer",)
    assert parse_condition("page_name in [Pricing, 'Blog Post']").values == ("Pricing", "Blog Post")
    assert parse_condition("properties.plan != pro").field == "properties.plan"
