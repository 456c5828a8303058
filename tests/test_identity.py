"""Identity resolution rules on hand-made identifier graphs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import (
    CRM_COLUMNS,
    EMAIL_COLUMNS,
    KEY,
    T0,
    Pipeline,
    crm,
    mail,
    published,
    web,
    write_csv,
    write_jsonl,
)

from funnel.privacy import customer_id


def customer_of(pipeline: Pipeline, identifier_type: str, value: str) -> str:
    rows = pipeline.query(
        "select customer_id from marts.customer_identifiers "
        "where identifier_type = ? and identifier_value = ?",
        [identifier_type, published(identifier_type, value)],
    )
    assert rows, f"{identifier_type} {value!r} not resolved"
    return rows[0][0]


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    pipeline = Pipeline(tmp_path_factory.mktemp("identity"))
    events = [
        # chain: device -> user id + e-mail (identify) -> CRM contact (by e-mail) -> e-mail events
        web("w-chain-1", 0, anon="a-chain"),
        web("w-chain-2", 60, anon="a-chain", user="u-chain", type="identify",
            email=" Chain@Shop.IO "),
        # junk: two strangers whose identify calls carry junk ids must stay apart
        web("w-junk-1", 0, anon="a-junk-1", user="null", type="identify",
            email="test@example.com"),
        web("w-junk-2", 0, anon="a-junk-2", user="null", type="identify",
            email="test@example.com"),
        # a device shared by three users: a hub. Its first session opens with an anonymous
        # event (attributed through the hub) before s1 identifies.
        web("w-shared-early", -60, anon="shared"),
        *[web(f"w-shared-{i}", i * 100, anon="shared", user=f"s{i}", type="identify",
              email=f"s{i}@shop.io") for i in (1, 2, 3)],
        *[web(f"w-own-{i}", 5000 + i, anon=f"own-{i}", user=f"s{i}") for i in (1, 2, 3)],
        web("w-shared-anon", 9000, anon="shared"),
        # a device shared by two users: within the default tolerance of 2, merged
        *[web(f"w-pair-{i}", i * 100, anon="pair", user=f"p{i}", type="identify",
              email=f"p{i}@shop.io") for i in (1, 2)],
        # users behind a support mailbox, each with their own device
        *[web(f"w-v{i}", 0, anon=f"dev-v{i}", user=f"v{i}") for i in (1, 2, 3)],
    ]  # fmt: skip
    write_jsonl(pipeline.inbox / "web" / "events.jsonl", events)
    activities = [
        crm("c-chain", 120, "contact_created", contact_id="k-chain", email="chain@shop.io"),
        *[crm(f"c-sup-{i}", 0, "ticket_opened", contact_id=f"k-sup-{i}",
              email="support@acme-corp.io", user_id=f"v{i}") for i in (1, 2, 3)],
    ]  # fmt: skip
    write_csv(pipeline.inbox / "crm" / "activities.csv", CRM_COLUMNS, activities)
    write_csv(
        pipeline.inbox / "email" / "events.csv",
        EMAIL_COLUMNS,
        [mail("e-chain", 200, "CHAIN@shop.io ", "open")],
    )
    pipeline.run()
    return pipeline


def test_chain_web_email_crm_is_one_customer(graph: Pipeline) -> None:
    ids = {
        customer_of(graph, "anonymous_id", "a-chain"),
        customer_of(graph, "user_id", "u-chain"),
        customer_of(graph, "email", "chain@shop.io"),
        customer_of(graph, "contact_id", "k-chain"),
    }
    assert len(ids) == 1
    (customer,) = ids
    by_source = graph.query(
        "select source, count(*) from marts.events where customer_id = ? group by 1 order by 1",
        [customer],
    )
    assert by_source == [("crm", 1), ("email", 1), ("web", 2)]


def test_records_with_the_same_identifiers_are_one_profile(graph: Pipeline) -> None:
    # w-shared-early and w-shared-anon carry only the device 'shared': one profile of 2 records,
    # seen from the first to the last of them; s1..s3's identify calls on it are 3 more
    profiles = graph.query(
        """
        select p.records, p.first_seen_at, p.last_seen_at
        from intermediate.int_identity__observations as p
        where p.identifier_type = 'anonymous_id' and p.identifier_value = 'shared'
        order by p.records desc, p.first_seen_at
        """,
        work=True,
    )
    at = [T0.replace(tzinfo=None) + timedelta(seconds=s) for s in (-60, 9000, 100, 200, 300)]
    assert profiles == [(2, at[0], at[1]), *[(1, t, t) for t in at[2:]]]
    assert graph.query(
        "select records, first_seen_at, last_seen_at from intermediate.int_identity__nodes"
        " where identifier_type = 'anonymous_id' and identifier_value = 'shared'",
        work=True,
    ) == [(5, at[0], at[1])]
    # both records of the profile get its customer: the hub's own
    assert graph.query(
        "select count(distinct customer_id), count(*) from marts.events"
        " where event_id in ('w-shared-early', 'w-shared-anon')"
    ) == [(1, 2)]


def test_every_pair_of_identifiers_on_a_record_is_an_edge(graph: Pipeline) -> None:
    # a profile carries up to three identifiers, one per priority (the edges pair them by it)
    assert graph.query(
        "select max(priority), max(n) from (select priority, count(*) as n"
        " from intermediate.int_identity__observations group by profile_id, priority)",
        work=True,
    ) == [(3, 1)]
    # each of a record's pairs is a link, stored once
    edges = graph.query(
        """
        select a.identifier_type || ':' || a.identifier_value,
               b.identifier_type || ':' || b.identifier_value
        from intermediate.int_identity__edges as e
        inner join intermediate.int_identity__nodes as a on a.node_id = e.node_a
        inner join intermediate.int_identity__nodes as b on b.node_id = e.node_b
        """,
        work=True,
    )
    pairs = {frozenset(edge) for edge in edges}
    assert len(pairs) == len(edges)
    chain = {"anonymous_id:a-chain", "user_id:u-chain", "email:chain@shop.io"}
    support = {"contact_id:k-sup-1", "email:support@acme-corp.io", "user_id:v1"}
    for record in (chain, support):
        assert {p for p in pairs if p <= record} == {
            frozenset((x, y)) for x in record for y in record if x < y
        }
    # a CRM contact created with the chain's e-mail links the two
    assert frozenset(("contact_id:k-chain", "email:chain@shop.io")) in pairs
    # an e-mail event has one identifier, and a device seen alone links nothing
    assert not any("anonymous_id:own-1" in p and "user_id:s1" not in p for p in pairs)


def test_junk_identifiers_never_link(graph: Pipeline) -> None:
    assert customer_of(graph, "anonymous_id", "a-junk-1") != customer_of(
        graph, "anonymous_id", "a-junk-2"
    )
    junk = graph.query(
        "select identifier_value from marts.customer_identifiers "
        "where identifier_value in ('null', ?)",
        [published("email", "test@example.com")],
    )
    assert junk == []


def test_with_no_junk_configured_the_same_values_link(pipeline: Pipeline) -> None:
    # the junk lists are configuration: emptied, 'null' is a user id like any other
    pipeline.configure("identity:\n  junk_values: []\n  junk_email_patterns: []\n")
    write_jsonl(
        pipeline.inbox / "web" / "events.jsonl",
        [web(f"w-{i}", 0, anon=f"a-{i}", user="null", type="identify", email="test@example.com")
         for i in (1, 2)],
    )  # fmt: skip
    pipeline.run()
    assert customer_of(pipeline, "anonymous_id", "a-1") == customer_of(
        pipeline, "anonymous_id", "a-2"
    )
    assert customer_of(pipeline, "user_id", "null") == customer_of(
        pipeline, "email", "test@example.com"
    )


def test_shared_device_is_a_hub_and_links_nobody(graph: Pipeline) -> None:
    users = {customer_of(graph, "user_id", f"s{i}") for i in (1, 2, 3)}
    assert len(users) == 3
    assert graph.query(
        "select identifier_type, identifier_value, customers_joined from marts.identity_hubs "
        "where identifier_value = 'shared'"
    ) == [("anonymous_id", "shared", 3)]
    # each user keeps their own device and e-mail
    for i in (1, 2, 3):
        assert customer_of(graph, "anonymous_id", f"own-{i}") == customer_of(
            graph, "user_id", f"s{i}"
        )
        assert customer_of(graph, "email", f"s{i}@shop.io") == customer_of(
            graph, "user_id", f"s{i}"
        )
    # identified events on the shared device go to the user; anonymous ones to the hub itself
    hub = customer_of(graph, "anonymous_id", "shared")
    assert graph.scalar("select customer_id from marts.events where event_id = 'w-shared-2'") == (
        customer_of(graph, "user_id", "s2")
    )
    assert (
        graph.scalar("select customer_id from marts.events where event_id = 'w-shared-anon'") == hub
    )
    assert graph.scalar("select is_hub from marts.customers where customer_id = ?", [hub]) is True


def test_session_belongs_to_its_first_event_not_attributed_through_a_hub(graph: Pipeline) -> None:
    session, customer = graph.query(
        "select session_id, customer_id from marts.events where event_id = 'w-shared-early'"
    )[0]
    assert customer == customer_of(graph, "anonymous_id", "shared")  # the hub's own
    assert graph.scalar(
        "select customer_id from marts.sessions where session_id = ?", [session]
    ) == customer_of(graph, "user_id", "s1")


def test_support_mailbox_is_a_hub(graph: Pipeline) -> None:
    hubs = graph.query(
        "select customers_joined from marts.identity_hubs where identifier_value = ?",
        [published("email", "support@acme-corp.io")],
    )
    assert hubs == [(3,)]
    contacts = {customer_of(graph, "contact_id", f"k-sup-{i}") for i in (1, 2, 3)}
    assert len(contacts) == 3
    for i in (1, 2, 3):
        assert customer_of(graph, "contact_id", f"k-sup-{i}") == customer_of(
            graph, "user_id", f"v{i}"
        )


def test_two_users_on_one_device_are_within_the_default_tolerance(graph: Pipeline) -> None:
    assert customer_of(graph, "user_id", "p1") == customer_of(graph, "user_id", "p2")
    assert graph.query("select * from marts.identity_hubs where identifier_value = 'pair'") == []


def test_tolerance_is_configurable(tmp_path) -> None:
    pipeline = Pipeline(tmp_path)
    pipeline.configure("identity:\n  max_customers_per_identifier: 1\n")
    write_jsonl(
        pipeline.inbox / "web" / "e.jsonl",
        [web(f"w{i}", i, anon="pair", user=f"p{i}", type="identify", email=f"p{i}@shop.io")
         for i in (1, 2)],
    )  # fmt: skip
    pipeline.run()
    assert customer_of(pipeline, "user_id", "p1") != customer_of(pipeline, "user_id", "p2")
    assert pipeline.query("select identifier_value, customers_joined from marts.identity_hubs") == [
        ("pair", 2)
    ]


def test_customer_id_is_stable_as_a_customer_grows(tmp_path) -> None:
    pipeline = Pipeline(tmp_path)
    write_jsonl(pipeline.inbox / "web" / "day1.jsonl", [web("g1", 0, anon="grow")])
    pipeline.run()
    expected = customer_id("anonymous_id:grow", KEY)
    assert customer_of(pipeline, "anonymous_id", "grow") == expected
    write_jsonl(
        pipeline.inbox / "web" / "day2.jsonl",
        [web("g2", 100, anon="grow", user="g-user", type="identify", email="g@shop.io")],
    )
    pipeline.run()
    assert {customer_of(pipeline, t, v) for t, v in [
        ("anonymous_id", "grow"), ("user_id", "g-user"), ("email", "g@shop.io")
    ]} == {expected}  # fmt: skip
