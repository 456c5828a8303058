"""End to end: the committed sample through the real Dagster job, checked against the
generator's planted truth (data/sample/truth/)."""

from __future__ import annotations

import csv
import filecmp
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from conftest import Pipeline, published

from funnel.config import load_config
from funnel.generate import generate
from funnel.generate.truth import CHECKOUT

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
MARTS = ("customers", "customer_identifiers", "identity_hubs", "events", "sessions")


def key_of(row: dict[str, str]) -> tuple[str, str]:
    """A truth identifier as the marts show it (e-mail addresses pseudonymized)."""
    return row["identifier_type"], published(row["identifier_type"], row["identifier_value"])


def truth(name: str) -> list[dict[str, str]]:
    with (SAMPLE / "truth" / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    pipeline = Pipeline(tmp_path_factory.mktemp("sample"))
    pipeline.inbox = SAMPLE
    pipeline.config_path = REPO / "funnel.yaml"  # as `make run` does
    pipeline.run()
    return pipeline


def test_every_planted_person_is_exactly_one_customer(sample_run: Pipeline) -> None:
    resolved = dict(
        ((t, v), c)
        for t, v, c in sample_run.query(
            "select identifier_type, identifier_value, customer_id from marts.customer_identifiers"
        )
    )
    customers_of_person: dict[str, set[str]] = defaultdict(set)
    persons_of_customer: dict[str, set[str]] = defaultdict(set)
    for row in truth("identifiers.csv"):
        customer = resolved[key_of(row)]
        customers_of_person[row["person_id"]].add(customer)
        persons_of_customer[customer].add(row["person_id"])
    split = {p: c for p, c in customers_of_person.items() if len(c) != 1}
    merged = {c: p for c, p in persons_of_customer.items() if len(p) != 1}
    assert split == {} and merged == {}
    # and nothing was resolved that the generator did not plant (hubs apart)
    planted = {key_of(r) for r in truth("identifiers.csv")}
    hubs = {key_of(r) for r in truth("hubs.csv")}
    assert set(resolved) == planted | hubs


def test_planted_hubs_are_reported(sample_run: Pipeline) -> None:
    expected = {(*key_of(r), int(r["persons"])) for r in truth("hubs.csv")}
    assert expected, "the sample plants a shared device and a support mailbox"
    actual = set(
        sample_run.query(
            "select identifier_type, identifier_value, customers_joined from marts.identity_hubs"
        )
    )
    assert actual == expected


def test_sessions_match_the_planted_sessions(sample_run: Pipeline) -> None:
    expected = Counter(
        (
            r["anonymous_id"],
            r["started_at"],
            r["ended_at"],
            int(r["events"]),
            int(r["page_views"]),
            r["channel"],
            r["landing_path"],
            r["is_split"].lower() == "true",
        )
        for r in truth("sessions.csv")
    )
    actual = Counter(
        sample_run.query(
            """
            select device_id,
                   strftime(started_at, '%Y-%m-%dT%H:%M:%S.%g') || 'Z',
                   strftime(ended_at, '%Y-%m-%dT%H:%M:%S.%g') || 'Z',
                   events, page_views, channel, landing_page_path, is_split
            from marts.sessions
            """
        )
    )
    assert actual - expected == Counter() and expected - actual == Counter()


def customer_of_person(run: Pipeline) -> dict[str, str]:
    resolved = {
        (t, v): c
        for t, v, c in run.query(
            "select identifier_type, identifier_value, customer_id from marts.customer_identifiers"
        )
    }
    return {r["person_id"]: resolved[key_of(r)] for r in truth("identifiers.csv")}


ISO = "strftime({}, '%Y-%m-%dT%H:%M:%S.%g') || 'Z'"


def test_planted_journeys_are_recovered(sample_run: Pipeline) -> None:
    customer = customer_of_person(sample_run)
    expected = Counter(
        (customer[r["person_id"]], r["stage"], r["first_at"]) for r in truth("journeys.csv")
    )
    actual = Counter(
        sample_run.query(
            f"select customer_id, stage, {ISO.format('entered_at')} from marts.customer_stages"
        )
    )
    assert actual - expected == Counter() and expected - actual == Counter()


def test_planted_orders_and_first_touches_are_recovered(sample_run: Pipeline) -> None:
    customer = customer_of_person(sample_run)
    orders = Counter(
        (customer[r["person_id"]], r["order_id"], r["occurred_at"], float(r["revenue"]))
        for r in truth("orders.csv")
    )
    assert orders == Counter(
        sample_run.query(
            f"select customer_id, order_id, {ISO.format('occurred_at')}, revenue"
            " from marts.events where event_name = 'Order Completed'"
        )
    )
    journeys = {
        c: (channel, first)
        for c, channel, first in sample_run.query(
            "select customer_id, acquisition_channel,"
            f" {ISO.format('first_touch_at')} from marts.customer_journeys"
        )
    }
    for person in truth("people.csv"):
        # a person known only by e-mail was acquired by e-mail (their first touch)
        channel = person["acquisition_channel"] or "Email"
        assert journeys[customer[person["person_id"]]] == (channel, person["first_touch_at"])


def test_planted_bad_rows_and_duplicates_are_exactly_what_was_set_aside(
    sample_run: Pipeline,
) -> None:
    bad = {(r["source"], r["file"], int(r["row"])) for r in truth("bad_rows.csv")}
    assert bad == set(sample_run.query('select source, file, "row" from meta.quarantine'))
    duplicates = Counter(
        (r["source"], r["file"], int(r["row"]), r["event_id"]) for r in truth("duplicates.csv")
    )
    assert duplicates == Counter(
        sample_run.query('select source, file, "row", event_id from meta.duplicates')
    )


def test_counts_add_up(sample_run: Pipeline) -> None:
    (bad,) = sample_run.query(
        "select count(*) from meta.ingested_files "
        "where rows_read <> rows_loaded + rows_quarantined + rows_duplicate"
    )[0]
    assert bad == 0
    loaded = sample_run.scalar("select sum(rows_loaded) from meta.ingested_files")
    assert loaded == sample_run.scalar("select count(*) from marts.events")


def test_rerun_adds_nothing(sample_run: Pipeline) -> None:
    def snapshot() -> dict[str, object]:
        state: dict[str, object] = {
            "files": sample_run.query("select file, content_hash from meta.ingested_files"),
        }
        for mart in MARTS:
            state[mart] = sample_run.query(
                f"select count(*), sum(hash(columns(*))) from marts.{mart}"
            )
        return state

    before = snapshot()
    sample_run.run()
    assert snapshot() == before


def test_committed_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    out = tmp_path / "sample"
    generate(out, customers=2000, days=90, seed=42)
    committed = sorted(p.relative_to(SAMPLE) for p in SAMPLE.rglob("*") if p.is_file())
    written = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert committed == written
    _, mismatch, errors = filecmp.cmpfiles(SAMPLE, out, [str(p) for p in committed], shallow=False)
    assert (mismatch, errors) == ([], [])


def test_committed_sample_is_small() -> None:
    assert sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file()) < 5_000_000


def test_planted_checkout_paths_are_recovered(sample_run: Pipeline) -> None:
    """truth/checkout.csv: each person's furthest step in the checkout funnel of funnel.yaml."""
    checkout = next(f for f in load_config(REPO / "funnel.yaml").funnels if f.name == "checkout")
    assert [s.event for s in checkout.steps] == list(CHECKOUT) and checkout.window == 14 * 86400
    customer = customer_of_person(sample_run)
    expected = Counter(
        (customer[r["person_id"]], int(r["furthest_step"])) for r in truth("checkout.csv")
    )
    actual = Counter(
        sample_run.query(
            "select unit_id, furthest_step from intermediate.int_funnels__units"
            " where funnel = 'checkout'",
            work=True,
        )
    )
    assert actual == expected
    steps = sample_run.query(
        "select customers from marts.funnel_steps"
        " where funnel = 'checkout' and breakdown = 'all' order by step_index"
    )
    levels = Counter(int(r["furthest_step"]) for r in truth("checkout.csv"))
    assert [c for (c,) in steps] == [
        sum(n for level, n in levels.items() if level >= k) for k in range(1, len(CHECKOUT) + 1)
    ]


def test_checkout_funnel_equals_clickhouse_on_the_sample(
    sample_run: Pipeline, tmp_path: Path
) -> None:
    """The sample's checkout funnel (funnel.yaml) against windowFunnel on the same events."""
    chdb = pytest.importorskip("chdb")
    steps = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]
    events = tmp_path / "events.csv"
    rows = sample_run.query(
        "select customer_id, epoch_ms(occurred_at), event_name from marts.events"
        " where source = 'web' and event_name in (?, ?, ?, ?)",
        steps,
    )
    events.write_text("".join(f"{c},{t},{e}\n" for c, t, e in rows))
    conditions = ", ".join(f"e = '{s}'" for s in steps)
    result = chdb.query(
        f"select level, count() from (select windowFunnel({14 * 86400 * 1000})(t, {conditions})"
        f" as level from file('{events}', 'CSV', 'c String, t UInt64, e String') group by c)"
        " group by level",
        "CSV",
    )
    levels = dict(tuple(map(int, line.split(","))) for line in str(result).split())
    expected = [sum(n for level, n in levels.items() if level >= k) for k in range(1, 5)]
    ours = sample_run.query(
        "select customers from marts.funnel_steps"
        " where funnel = 'checkout' and breakdown = 'all' order by step_index"
    )
    assert [c for (c,) in ours] == expected


def test_no_raw_email_address_is_published(sample_run: Pipeline) -> None:
    emails = {
        v
        for (v,) in sample_run.query(
            "select distinct identifier_value from intermediate.int_identity__nodes"
            " where identifier_type = 'email'",
            work=True,
        )
    }
    assert len(emails) > 1000
    leaks = []
    for schema, table, column in sample_run.query(
        "select table_schema, table_name, column_name from information_schema.columns"
        " where data_type = 'VARCHAR'"
    ):
        values = {
            v for (v,) in sample_run.query(f'select distinct "{column}" from {schema}.{table}')
        }
        found = [v for v in values if v and any(e in v for e in emails if "@" in v)]
        if found:
            leaks.append((f"{schema}.{table}.{column}", found[:3]))
    assert leaks == []


def test_files_quarantine_and_duplicates_trace_to_a_published_run(sample_run: Pipeline) -> None:
    runs = {r for (r,) in sample_run.query("select run_id from meta.runs")}
    for table in ("ingested_files", "quarantine", "duplicates"):
        unknown = sample_run.query(
            f"select count(*) from meta.{table} where run_id not in (select run_id from meta.runs)"
        )
        assert unknown == [(0,)], table
    assert len(runs) >= 1
