"""Pseudonyms: keyed, from the environment or a key the pipeline keeps outside the repository;
values from configuration and input never become SQL."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from conftest import KEY, Pipeline, web, write_jsonl

from funnel.privacy import ENV_KEY, customer_id, pseudonym, pseudonym_key


def test_the_key_comes_from_the_environment_else_a_private_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_KEY, "from-env")
    assert pseudonym_key(tmp_path) == "from-env"
    monkeypatch.delenv(ENV_KEY)
    key = pseudonym_key(tmp_path)
    assert len(key) == 64 and pseudonym_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "pseudonym.key").stat().st_mode) == 0o600


def test_pseudonyms_depend_on_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = [web("w1", 0, "d1", "u1", type="identify", email="Ann@Shop.io")]
    ids = {}
    for key in (KEY, "another-key"):
        monkeypatch.setenv(ENV_KEY, key)
        pipeline = Pipeline(tmp_path / key)
        write_jsonl(pipeline.inbox / "web" / "e.jsonl", events)
        pipeline.run()
        ids[key] = pipeline.query(
            "select identifier_value, customer_id from marts.customer_identifiers"
            " where identifier_type = 'email'"
        )
    anchor = "anonymous_id:d1"  # the first-seen identifier (ties: type, then value)
    assert ids[KEY] == [(pseudonym("ann@shop.io", KEY), customer_id(anchor, KEY))]
    other = ids["another-key"][0]
    assert other[0] != ids[KEY][0][0] and other[1] != ids[KEY][0][1]


def test_config_values_never_become_sql(tmp_path: Path) -> None:
    name = "x'); delete from meta.ingested_files; --"
    pipeline = Pipeline(tmp_path)
    pipeline.configure(
        "funnels:\n  - name: odd\n    steps:\n"
        f'      - {{event: "{name}"}}\n'
        "      - {event: B, where: [\"page_name == 'it''s; drop table marts.events'\"]}\n"
    )
    write_jsonl(
        pipeline.inbox / "web" / "e.jsonl",
        [web("a", 0, "d", type="track", event=name), web("b", 5, "d", name="x")],
    )
    pipeline.run()
    assert pipeline.query(
        "select step_index, customers from marts.funnel_steps where funnel = 'odd'"
        " and breakdown = 'all' order by 1"
    ) == [(1, 1), (2, 0)]
    assert pipeline.scalar("select count(*) from meta.ingested_files") == 1
