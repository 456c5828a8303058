"""The Dagster code location: what `dagster dev -w workspace.yaml` shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from funnel.schemas import TABLE_SCHEMAS
from pipelines.definitions import defs

# The asset graph: each asset and what it depends on. A rename or a new edge shows up here.
GRAPH = {
    "raw/web_events": set(),
    "raw/crm_events": set(),
    "raw/email_events": set(),
    "staging/stg_web__events": {"raw/web_events"},
    "staging/stg_crm__activities": {"raw/crm_events"},
    "staging/stg_email__events": {"raw/email_events"},
    "intermediate/int_identity__observations": {
        "staging/stg_web__events", "staging/stg_crm__activities", "staging/stg_email__events",
    },
    "intermediate/int_identity__nodes": {"intermediate/int_identity__observations"},
    "intermediate/int_identity__edges": {
        "intermediate/int_identity__observations", "intermediate/int_identity__nodes",
    },
    "intermediate/int_identity__components": {
        "intermediate/int_identity__nodes", "intermediate/int_identity__edges",
    },
    "intermediate/int_identity__hubs": {
        "intermediate/int_identity__nodes", "intermediate/int_identity__edges",
    },
    "intermediate/int_identity__customers": {
        "intermediate/int_identity__nodes", "intermediate/int_identity__components",
        "intermediate/int_identity__hubs",
    },
    "intermediate/int_identity__profile_customers": {
        "intermediate/int_identity__observations", "intermediate/int_identity__customers",
    },
    "intermediate/int_web__sessionized": {
        "staging/stg_web__events", "intermediate/int_identity__profile_customers",
    },
    "intermediate/int_sessions__landings": {
        "intermediate/int_web__sessionized", "staging/stg_web__events",
    },
    "intermediate/int_sessions__channels": {"intermediate/int_sessions__landings"},
    "marts/customer_identifiers": {"intermediate/int_identity__customers"},
    "marts/identity_hubs": {
        "intermediate/int_identity__hubs", "intermediate/int_identity__customers",
    },
    "marts/sessions": {
        "intermediate/int_web__sessionized", "intermediate/int_sessions__channels",
        "intermediate/int_sessions__landings", "marts/events",
    },
    "marts/events": {
        "intermediate/int_web__sessionized", "staging/stg_web__events",
        "intermediate/int_sessions__channels",
        "intermediate/int_identity__profile_customers", "staging/stg_crm__activities",
        "staging/stg_email__events",
    },
    "marts/customers": {
        "intermediate/int_identity__customers", "marts/events", "marts/sessions",
    },
    "intermediate/int_funnels__unit_keys": {"marts/events", "marts/sessions"},
    "intermediate/int_funnels__step_events": {
        "marts/events", "intermediate/int_funnels__unit_keys",
    },
    "intermediate/int_funnels__attempts": {
        "intermediate/int_funnels__step_events", "intermediate/int_funnels__unit_keys",
    },
    "intermediate/int_funnels__attempt_steps": {"intermediate/int_funnels__step_events"},
    "intermediate/int_funnels__units": {"intermediate/int_funnels__attempts", "marts/events"},
    "marts/customer_stages": {
        "intermediate/int_funnels__step_events", "intermediate/int_funnels__unit_keys",
    },
    "marts/customer_journeys": {"marts/customer_stages", "marts/events"},
    "marts/touchpoints": {"marts/customer_stages", "marts/events"},
    "marts/funnel_steps": {
        "intermediate/int_funnels__units", "intermediate/int_funnels__attempt_steps",
        "marts/customer_journeys", "marts/customers",
    },
    "marts/funnel_trends": {"intermediate/int_funnels__units"},
    "intermediate/int_kpi__facts": {
        "marts/customer_journeys", "marts/sessions", "marts/events",
        "intermediate/int_funnels__step_events",
    },
    "marts/kpi_daily": {"intermediate/int_kpi__facts"},
    "marts/kpi_by_channel": {"intermediate/int_kpi__facts"},
    "marts/funnel_dropoff": {
        "intermediate/int_funnels__units", "intermediate/int_funnels__attempts",
        "intermediate/int_funnels__attempt_steps", "marts/events",
    },
}  # fmt: skip
# published last, after every mart (and so after every blocking check)
GRAPH["published/warehouse"] = {key for key in GRAPH if key.startswith("marts/")}


def test_asset_graph_snapshot() -> None:
    graph = defs.resolve_asset_graph()
    actual = {
        key.to_user_string(): {dep.to_user_string() for dep in graph.get(key).parent_keys}
        for key in graph.get_all_asset_keys()
    }
    assert actual == GRAPH


def test_groups_follow_the_layers() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).group_name == key.path[0]


def test_every_asset_is_described() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, key


def test_every_output_table_has_a_blocking_schema_check() -> None:
    checks = {
        spec.asset_key: spec
        for checks_def in defs.asset_checks or []
        for spec in checks_def.check_specs
    }
    for table in TABLE_SCHEMAS:
        spec = checks[AssetKey(table.split("."))]
        assert spec.blocking and spec.name == "pandera_schema"


def test_job_schedule_and_sensor_run_the_same_job() -> None:
    job = defs.resolve_job_def("funnel")
    assert job.executor_def.name == "in_process"
    assert defs.resolve_schedule_def("funnel_daily").job_name == "funnel"
    assert defs.resolve_schedule_def("funnel_daily").cron_schedule == "0 6 * * *"
    assert defs.resolve_sensor_def("funnel_inbox").job_name == "funnel"


def test_workspace_loads_in_dagster(tmp_path) -> None:
    """What `dagster dev -w workspace.yaml` loads, validated by Dagster's own command."""
    repo = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate",
         "-w", "workspace.yaml"],
        cwd=repo, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "Validation successful for code location pipelines.definitions" in output
