"""Ingest: every format, quarantine with file/row/reason, dedup, manifest, failing files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import CRM_COLUMNS, EMAIL_COLUMNS, crm, mail, web, write_csv, write_jsonl

from funnel.config import FunnelConfig
from funnel.ingest import SOURCES, ingest_source
from funnel.ingest.readers import FileError
from funnel.models import Model
from funnel.warehouse import connect, sql_params

FLAT_WEB = [
    "messageId", "type", "event", "name", "anonymousId", "userId", "timestamp",
    "properties.revenue", "properties.order_id", "context.page.url", "context.page.path",
    "context.campaign.source", "traits.email",
]  # fmt: skip
EVENTS = [
    web("m1", 0, "a1", url="https://shop.example.com/p?x=1", campaign={"source": "google"}),
    web("m2", 30, "a1", "u1", type="track", event="Order Completed",
        properties={"revenue": 12.5, "order_id": "o-1"}),
    web("m3", 60, "a1", "u1", type="identify", email=" Bob@Shop.io "),
]  # fmt: skip


def flatten(record: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        elif value is not None:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def write_flat(path: Path, records: list[dict]) -> Path:
    rows = [flatten(r) for r in records]
    if path.name.endswith(".parquet"):
        table = pa.table({c: [r.get(c) for r in rows] for c in FLAT_WEB})
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
        return path
    write_csv(path.with_suffix("") if path.name.endswith(".gz") else path, FLAT_WEB, rows)
    if path.name.endswith(".gz"):
        plain = path.with_suffix("")
        path.write_bytes(gzip.compress(plain.read_bytes(), mtime=0))
        plain.unlink()
    return path


@pytest.fixture
def con(tmp_path):
    with connect(tmp_path / "w.duckdb", FunnelConfig()) as connection:
        yield connection


def ingest(con, inbox: Path, source: str = "web"):
    return ingest_source(con, SOURCES[source], inbox, sql_params(FunnelConfig()))


def staged_web(con) -> list[tuple]:
    con.execute(
        "create or replace table staging.stg_web__events as "
        + (Path(__file__).parents[1] / "sql/staging/stg_web__events.sql").read_text()
    )
    return con.execute(
        "select event_id, event_type, event_name, anonymous_id, user_id, email, occurred_at,"
        " page_url, page_path, campaign_source, revenue, order_id"
        " from staging.stg_web__events order by event_id"
    ).fetchall()


@pytest.mark.parametrize("name", ["e.jsonl", "e.jsonl.gz", "e.csv", "e.csv.gz", "e.parquet"])
def test_every_format_gives_the_same_events(con, tmp_path: Path, name: str) -> None:
    path = tmp_path / "inbox" / "web" / name
    if ".jsonl" in name:
        write_jsonl(path, EVENTS)
    else:
        write_flat(path, EVENTS)
    report = ingest(con, tmp_path / "inbox")
    assert (report.rows.read, report.rows.loaded) == (3, 3)
    rows = staged_web(con)
    assert [r[:6] for r in rows] == [
        ("m1", "page", "Page Viewed", "a1", None, None),
        ("m2", "track", "Order Completed", "a1", "u1", None),
        ("m3", "identify", "Identified", "a1", "u1", "bob@shop.io"),
    ]
    assert str(rows[0][6]) == "2026-08-03 09:00:00"
    assert rows[0][7:10] == ("https://shop.example.com/p?x=1", "/p", "google")
    assert rows[1][10:] == (12.5, "o-1")


def test_bad_web_rows_are_quarantined_with_file_row_and_reason(con, tmp_path: Path) -> None:
    good = web("ok", 0, "a1")
    lines = [
        good,                                                        # 1 loaded
        "{not json",                                                 # 2
        {**good, "messageId": None},                                 # 3
        {**good, "messageId": "t", "type": "alias"},                 # 4
        {**good, "messageId": "e", "type": "track", "event": ""},    # 5
        {**good, "messageId": "ts", "timestamp": "yesterday"},       # 6
        {**good, "messageId": "j", "anonymousId": "unknown"},        # 7 (userId is null)
        {**good, "messageId": "p", "properties": "oops"},            # 8
        {**good, "messageId": "r", "properties": {"revenue": "lots"}},  # 9
        "",                                                          # 10 blank: not a row
        "[1, 2]",                                                    # 11
    ]  # fmt: skip
    write_jsonl(tmp_path / "inbox" / "web" / "bad.jsonl", lines)
    report = ingest(con, tmp_path / "inbox")
    assert (report.rows.read, report.rows.loaded, report.rows.quarantined) == (10, 1, 9)
    assert con.execute(
        'select file, "row", reason from meta.quarantine order by "row"'
    ).fetchall() == [
        ("web/bad.jsonl", 2, "invalid JSON"),
        ("web/bad.jsonl", 3, "missing messageId"),
        ("web/bad.jsonl", 4, "type is not page, track or identify"),
        ("web/bad.jsonl", 5, "track event without an event name"),
        ("web/bad.jsonl", 6, "unparseable timestamp"),
        ("web/bad.jsonl", 7, "no usable identifier: anonymousId and userId missing or junk"),
        ("web/bad.jsonl", 8, "properties is not a JSON object"),
        ("web/bad.jsonl", 9, "properties.revenue is not a number"),
        ("web/bad.jsonl", 11, "not a JSON object"),
    ]
    # the record is kept as received
    assert con.execute('select record from meta.quarantine where "row" = 2').fetchone() == (
        "{not json",
    )


def test_bad_crm_and_email_rows_are_quarantined(con, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_csv(inbox / "crm" / "a.csv", CRM_COLUMNS, [
        crm("k1", 0, "contact_created", contact_id="c1"),
        crm("", 0, "contact_created", contact_id="c1"),
        {**crm("k2", 0, "nps_response", contact_id="c1"), "occurred_at": "31/02/2026"},
        crm("k3", 0, "nps_response", contact_id="c1", score="ten"),
        crm("k4", 0, "nps_response", contact_id="c1", score="11"),
        crm("k5", 0, "deal_won", contact_id="c1", amount="abc"),
        crm("k6", 0, "contact_created", contact_id="null", email="test@example.com"),
        crm("k7", 0, "nps_response", contact_id="c1", score="10"),
    ])  # fmt: skip
    write_csv(inbox / "email" / "a.csv", EMAIL_COLUMNS, [
        {**mail("m1", 0, "x@shop.io", "sent"), "timestamp": "1785747600"},
        {**mail("m2", 0, "x@shop.io", "open"), "timestamp": "1785747600123"},
        mail("m3", 0, "", "open"),
        mail("m4", 0, "noreply@shop.io", "open"),
        {**mail("m5", 0, "x@shop.io", "open"), "timestamp": "soon"},
    ])  # fmt: skip
    crm_report, email_report = ingest(con, inbox, "crm"), ingest(con, inbox, "email")
    assert (crm_report.rows.loaded, crm_report.rows.quarantined) == (2, 6)
    assert (email_report.rows.loaded, email_report.rows.quarantined) == (2, 3)
    assert con.execute(
        'select source, "row", reason from meta.quarantine order by source, "row"'
    ).fetchall() == [
        ("crm", 2, "missing event_id"),
        ("crm", 3, "unparseable occurred_at"),
        ("crm", 4, "score is not an integer from 0 to 10"),
        ("crm", 5, "score is not an integer from 0 to 10"),
        ("crm", 6, "amount is not a number"),
        ("crm", 7, "no usable identifier: contact_id, email and user_id missing or junk"),
        ("email", 3, "missing email"),
        ("email", 4, "email is not a usable address"),
        ("email", 5, "unparseable timestamp"),
    ]
    # Unix seconds and milliseconds: 1785747600 is 2026-08-03 09:00:00 UTC
    times = con.execute("select occurred_at_utc from raw.email_events order by event_id").fetchall()
    assert [str(t[0]) for t in times] == ["2026-08-03 09:00:00", "2026-08-03 09:00:00.123000"]


def test_an_address_is_trimmed_and_lower_cased_before_the_junk_patterns(
    con, tmp_path: Path
) -> None:
    # The defaults list noreply@% and %@example.com: padded and upper-cased they are still junk.
    inbox = tmp_path / "inbox"
    write_csv(inbox / "crm" / "a.csv", CRM_COLUMNS, [
        crm("k1", 0, "contact_created", contact_id="null", email=" TEST@Example.com "),
    ])  # fmt: skip
    write_csv(inbox / "email" / "a.csv", EMAIL_COLUMNS, [
        mail("m1", 0, "  NoReply@Shop.IO ", "open"),
        mail("m2", 0, " X@Shop.io ", "open"),
    ])  # fmt: skip
    crm_report, email_report = ingest(con, inbox, "crm"), ingest(con, inbox, "email")
    assert (crm_report.rows.loaded, crm_report.rows.quarantined) == (0, 1)
    assert (email_report.rows.loaded, email_report.rows.quarantined) == (1, 1)
    assert con.execute(
        'select source, "row", reason from meta.quarantine order by source, "row"'
    ).fetchall() == [
        ("crm", 1, "no usable identifier: contact_id, email and user_id missing or junk"),
        ("email", 1, "email is not a usable address"),
    ]
    Model("staging", "stg_email__events").run(con, sql_params(FunnelConfig()))
    assert con.execute("select email from staging.stg_email__events").fetchall() == [("x@shop.io",)]


def test_offsets_are_converted_to_utc(con, tmp_path: Path) -> None:
    events = [
        {**web("a", 0, "d"), "timestamp": "2026-08-03T11:00:00+02:00"},
        {**web("b", 0, "d"), "timestamp": "2026-08-03T04:00:00-05:00"},
        {**web("c", 0, "d"), "timestamp": "2026-08-03T09:00:00"},
    ]
    write_jsonl(tmp_path / "inbox" / "web" / "tz.jsonl", events)
    ingest(con, tmp_path / "inbox")
    times = con.execute("select distinct occurred_at_utc from raw.web_events").fetchall()
    assert [str(t[0]) for t in times] == ["2026-08-03 09:00:00"]


def test_duplicates_are_removed_first_copy_wins(con, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_jsonl(inbox / "web" / "1.jsonl", [web("x", 0, "d1"), web("x", 5, "d2")])
    write_jsonl(inbox / "web" / "2.jsonl", [web("x", 9, "d3"), web("y", 9, "d3")])
    report = ingest(con, inbox)
    assert (report.rows.read, report.rows.loaded, report.rows.duplicate) == (4, 2, 2)
    kept = con.execute("select message_id, anonymous_id from raw.web_events order by 1").fetchall()
    assert kept == [("x", "d1"), ("y", "d3")]
    assert con.execute(
        'select file, "row", event_id from meta.duplicates order by file'
    ).fetchall() == [("web/1.jsonl", 2, "x"), ("web/2.jsonl", 1, "x")]


def test_counts_add_up_per_file(con, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_jsonl(inbox / "web" / "1.jsonl", [web("x", 0, "d"), "{bad", web("x", 1, "d")])
    ingest(con, inbox)
    assert con.execute(
        "select rows_read, rows_loaded, rows_quarantined, rows_duplicate from meta.ingested_files"
    ).fetchall() == [(3, 1, 1, 1)]


def test_rerun_and_renamed_copies_are_no_ops(con, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    path = write_jsonl(inbox / "web" / "1.jsonl", [web("x", 0, "d")])
    ingest(con, inbox)
    again = ingest(con, inbox)
    assert (again.files_loaded, again.files_skipped) == ([], ["web/1.jsonl"])
    (inbox / "web" / "copy.jsonl").write_bytes(path.read_bytes())
    renamed = ingest(con, inbox)
    assert renamed.files_loaded == [] and renamed.rows.read == 0
    assert con.execute("select count(*) from raw.web_events").fetchone() == (1,)
    # the same name with new content is a new file: only its new event ids load
    write_jsonl(path, [web("x", 0, "d"), web("z", 0, "d")])
    grown = ingest(con, inbox)
    assert (grown.rows.loaded, grown.rows.duplicate) == (1, 1)


def test_csv_quoting_embedded_newlines_and_bom(con, tmp_path: Path) -> None:
    path = tmp_path / "inbox" / "crm" / "q.csv"
    path.parent.mkdir(parents=True)
    header = ",".join(CRM_COLUMNS)
    path.write_bytes(
        ("\ufeff" + header + "\n"
         'k1,c1,"a@shop.io",,contact_created,2026-08-03T09:00:00Z,"lead, hot",,,,,"Paid\nSearch"\n'
         'k2,c1,a@shop.io,,note,2026-08-03T09:00:00Z,"say ""hi""",,,,,\n').encode()
    )  # fmt: skip
    report = ingest(con, tmp_path / "inbox", "crm")
    assert report.rows.loaded == 2
    rows = con.execute("select stage, channel from raw.crm_events order by event_id").fetchall()
    assert rows == [("lead, hot", "Paid\nSearch"), ('say "hi"', None)]


def test_an_empty_file_is_recorded_with_no_rows(con, tmp_path: Path) -> None:
    (tmp_path / "inbox" / "web").mkdir(parents=True)
    (tmp_path / "inbox" / "web" / "empty.jsonl").write_bytes(b"")
    report = ingest(con, tmp_path / "inbox")
    assert report.files_loaded == ["web/empty.jsonl"] and report.rows.read == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "unsupported file type"),
        ("bad.jsonl.gz", gzip.compress(b'{"a": 1}\n' * 1000)[:50], "cannot be read"),
        ("cols.csv", b"foo,bar\n1,2\n", "missing required column 'messageId'"),
        ("junk.parquet", b"not parquet at all", "cannot be read"),
        ("stray-cr.jsonl", b'{"a": 1}\r0\n', "a carriage return inside a line"),
    ],
)
def test_unreadable_files_fail_naming_the_file(
    con, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / "inbox" / "web" / name
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(FileError, match=message) as info:
        ingest(con, tmp_path / "inbox")
    assert name in str(info.value)
    # nothing of the failed file was recorded: fixing it and re-running loads it
    assert con.execute("select count(*) from meta.ingested_files").fetchone() == (0,)


# Hostile input, one regression case each: (file name, content, rows loaded, quarantine reasons)
NASTY_WEB = [
    ("header-only.csv", ",".join(FLAT_WEB) + "\n", 0, []),
    ("empty.csv", "", 0, []),
    ("blank-lines.jsonl", "\n\n   \n", 0, []),
    (
        "extra-columns.csv",
        "messageId,type,anonymousId,timestamp,colour\nm1,page,a1,2026-08-03T09:00:00Z,red\n",
        1,
        [],
    ),
    (
        "no-offset-and-epochs.csv",
        "messageId,type,anonymousId,timestamp\n"
        "m1,page,a1,2026-08-03T09:00:00\nm2,page,a1,1785747600\nm3,page,a1,1785747600000\n",
        3,
        [],
    ),
    (
        "out-of-range.csv",
        "messageId,type,anonymousId,timestamp\n"
        "m1,page,a1,1999-12-31T23:59:59Z\nm2,page,a1,2999-01-01T00:00:00Z\n"
        "m3,page,a1,2000-01-01T00:00:00Z\n",
        1,
        ["timestamp out of range", "timestamp out of range"],
    ),
    (
        "junk-ids.csv",
        "messageId,type,anonymousId,userId,timestamp\n"
        "m1,page,undefined,null,2026-08-03T09:00:00Z\nm2,page, ,0,2026-08-03T09:00:00Z\n"
        ",page,a1,,2026-08-03T09:00:00Z\n",
        0,
        ["no usable identifier", "no usable identifier", "missing messageId"],
    ),
    (
        "long-strings.jsonl",
        json.dumps(
            {
                "messageId": "m" * 100_000,
                "type": "page",
                "anonymousId": "a" * 50_000,
                "timestamp": "2026-08-03T09:00:00Z",
                "properties": {"x": "y" * 1_000_000},
            }
        ),
        1,
        [],
    ),
    (
        # JSON null where an object may be is no object, as an empty cell of a CSV is not
        "null-objects.jsonl",
        json.dumps(
            {
                "messageId": "m1",
                "type": "identify",
                "anonymousId": "a1",
                "timestamp": "2026-08-03T09:00:00Z",
                "properties": None,
                "traits": None,
            }
        ),
        1,
        [],
    ),
    (
        "sql-in-values.jsonl",
        json.dumps(
            {
                "messageId": "'; drop table raw.web_events; --",
                "type": "track",
                "event": "x'); delete from meta.quarantine; --",
                "anonymousId": 'a"1',
                "timestamp": "2026-08-03T09:00:00Z",
            }
        ),
        1,
        [],
    ),
]


@pytest.mark.parametrize(("name", "content", "loaded", "reasons"), NASTY_WEB)
def test_hostile_web_files(con, tmp_path: Path, name, content, loaded, reasons) -> None:
    path = tmp_path / "inbox" / "web" / name
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    report = ingest(con, tmp_path / "inbox")
    assert report.rows.loaded == loaded
    found = [
        r for (r,) in con.execute('select reason from meta.quarantine order by "row"').fetchall()
    ]
    assert len(found) == len(reasons) and all(
        want in got for want, got in zip(reasons, found, strict=True)
    )
    assert report.rows.read == report.rows.loaded + report.rows.quarantined + report.rows.duplicate


def test_non_utf8_csv_rows_are_quarantined_with_their_line(con, tmp_path: Path) -> None:
    path = tmp_path / "inbox" / "email" / "latin1.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        b"event_id,email,event,timestamp\n"
        b"e1,a@shop.io,sent,1785747600\n"
        b"e2,caf\xe9@shop.io,sent,1785747600\n"
        b"e3,b@shop.io,sent,1785747600\n"
    )
    report = ingest(con, tmp_path / "inbox", "email")
    assert (report.rows.read, report.rows.loaded, report.rows.quarantined) == (3, 2, 1)
    ((row, reason),) = con.execute('select "row", reason from meta.quarantine').fetchall()
    assert row == 3 and "encoding" in reason.lower()


def test_links_out_of_the_inbox_are_refused(con, tmp_path: Path) -> None:
    outside = write_jsonl(tmp_path / "elsewhere" / "secret.jsonl", [web("x", 0, "d")])
    (tmp_path / "inbox" / "web").mkdir(parents=True)
    (tmp_path / "inbox" / "web" / "link.jsonl").symlink_to(outside)
    with pytest.raises(FileError, match="outside the inbox"):
        ingest(con, tmp_path / "inbox")


def test_a_nul_byte_line_is_quarantined_and_line_numbers_stay_true(con, tmp_path: Path) -> None:
    good = json.dumps(web("ok", 0, "a1"))
    bad = json.dumps(web("bad", 0, "a1")).replace("a1", "a\x001")
    later = json.dumps(web("later", 0, "a1"))
    write_jsonl(tmp_path / "inbox" / "web" / "nul.jsonl", [good, bad, "", later, "{oops"])
    report = ingest(con, tmp_path / "inbox")
    assert (report.rows.read, report.rows.loaded, report.rows.quarantined) == (4, 2, 2)
    assert con.execute('select "row", reason from meta.quarantine order by 1').fetchall() == [
        (2, "a NUL byte in the line"),
        (5, "invalid JSON"),
    ]
    assert con.execute("select message_id, _row from raw.web_events order by 2").fetchall() == [
        ("ok", 1),
        ("later", 4),
    ]


def test_a_line_longer_than_the_reader_takes_is_quarantined_with_its_reason(
    con, tmp_path: Path
) -> None:
    event = web("long", 0, "a1")
    event["properties"] = {"blob": "y" * (16 * 2**20)}  # over 16 MB once written as JSON
    lines = [json.dumps(web("ok", 0, "a1")), json.dumps(event), json.dumps(web("later", 0, "a1"))]
    write_jsonl(tmp_path / "inbox" / "web" / "long.jsonl", lines)
    report = ingest(con, tmp_path / "inbox")
    assert (report.rows.read, report.rows.loaded, report.rows.quarantined) == (3, 2, 1)
    assert con.execute('select "row", reason from meta.quarantine').fetchall() == [
        (2, "a line longer than 16 MB (the longest line read)")
    ]
    assert con.execute("select message_id, _row from raw.web_events order by 2").fetchall() == [
        ("ok", 1),
        ("later", 3),
    ]


def test_line_numbers_stay_true_in_files_read_in_parallel(con, tmp_path: Path) -> None:
    # two files of 150,000 lines, read together (a file per thread), each of several row groups;
    # the warehouse writes rows in any order (preserve_insertion_order off), but a line keeps
    # its file and number.
    for name, bad_lines in (("a", (7, 75_001)), ("b", (1, 149_999))):
        template = json.dumps(web(f"{name}-{{}}", 0, "a1"))
        lines = [template.replace(f"{name}-{{}}", f"{name}-{n}") for n in range(1, 150_001)]
        for bad in bad_lines:
            lines[bad - 1] = "{oops"
        write_jsonl(tmp_path / "inbox" / "web" / f"{name}.jsonl", lines)
    report = ingest(con, tmp_path / "inbox")
    assert (report.rows.read, report.rows.quarantined) == (300_000, 4)
    assert con.execute('select file, "row" from meta.quarantine order by 1, 2').fetchall() == [
        ("web/a.jsonl", 7), ("web/a.jsonl", 75_001), ("web/b.jsonl", 1), ("web/b.jsonl", 149_999),
    ]  # fmt: skip
    (misplaced,) = con.execute(
        "select count(*) from raw.web_events where message_id <> substr(_file, 5, 1) || '-' || _row"
    ).fetchone()
    assert misplaced == 0


def test_a_corrupt_file_among_others_is_named(con, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_jsonl(inbox / "web" / "1.jsonl", [web("x", 0, "d1")])
    (inbox / "web" / "2.jsonl.gz").write_bytes(gzip.compress(b'{"a": 1}\n' * 1000)[:50])
    write_jsonl(inbox / "web" / "3.jsonl", [web("y", 0, "d1")])
    with pytest.raises(FileError, match=r"^\S*2\.jsonl\.gz: cannot be read as JSON lines"):
        ingest(con, inbox)
    assert con.execute("select count(*) from meta.ingested_files").fetchone() == (0,)


@pytest.mark.parametrize("batch_bytes", [1, 10**9], ids=["a-batch-per-file", "one-batch"])
def test_ids_padded_with_spaces_are_the_same_id(con, tmp_path: Path, batch_bytes) -> None:
    # raw keeps an id as received; a later copy is a duplicate whichever of the two is padded
    inbox = tmp_path / "inbox"
    write_jsonl(inbox / "web" / "1.jsonl", [web(" x ", 0, "d1"), web("y", 0, "d1")])
    write_jsonl(inbox / "web" / "2.jsonl", [web("x", 5, "d2"), web("  y", 5, "d2")])
    report = ingest_source(
        con, SOURCES["web"], inbox, sql_params(FunnelConfig()), batch_bytes=batch_bytes
    )
    assert (report.rows.read, report.rows.loaded, report.rows.duplicate) == (4, 2, 2)
    assert con.execute(
        'select file, "row", event_id from meta.duplicates order by "row"'
    ).fetchall() == [("web/2.jsonl", 1, "x"), ("web/2.jsonl", 2, "y")]


def test_a_raw_table_from_before_the_id_key_gets_its_keys(con, tmp_path: Path) -> None:
    # a raw table written before `_id_key` existed: the repeat of its padded id is still found
    inbox = tmp_path / "inbox"
    write_jsonl(inbox / "web" / "1.jsonl", [web(" x ", 0, "d1")])
    ingest(con, inbox)
    con.execute("alter table raw.web_events drop column _id_key")
    write_jsonl(inbox / "web" / "2.jsonl", [web("x", 5, "d2"), web("y", 5, "d2")])
    report = ingest(con, inbox)
    assert (report.rows.read, report.rows.loaded, report.rows.duplicate) == (2, 1, 1)
    assert (
        con.execute(
            "select message_id from raw.web_events"
            " where _id_key is distinct from md5_number(trim(message_id))"
        ).fetchall()
        == []
    )


@pytest.mark.parametrize("batch_bytes", [1, 10**9], ids=["a-batch-per-file", "one-batch"])
def test_batches_keep_lineage_first_copy_and_counts(con, tmp_path: Path, batch_bytes) -> None:
    # three files: a NUL-byte line in the first must not shift or leak into the others
    inbox = tmp_path / "inbox"
    bad = json.dumps(web("n", 0, "a1")).replace("a1", "a\x001")
    write_jsonl(inbox / "web" / "1.jsonl", [web("x", 0, "d1"), bad, web("y", 1, "d1")])
    write_flat(inbox / "web" / "2.csv", [web("x", 5, "d2"), web("z", 6, "d2")])
    write_jsonl(inbox / "web" / "3.jsonl", ["{oops", web("z", 9, "d3"), web("w", 9, "d3")])
    report = ingest_source(
        con, SOURCES["web"], inbox, sql_params(FunnelConfig()), batch_bytes=batch_bytes
    )
    assert (report.rows.read, report.rows.loaded) == (8, 4)
    assert (report.rows.quarantined, report.rows.duplicate) == (2, 2)
    assert con.execute(
        "select message_id, _file, _row from raw.web_events order by 1"
    ).fetchall() == [
        ("w", "web/3.jsonl", 3), ("x", "web/1.jsonl", 1), ("y", "web/1.jsonl", 3),
        ("z", "web/2.csv", 2),
    ]  # fmt: skip
    assert con.execute('select file, "row", reason from meta.quarantine order by 1').fetchall() == [
        ("web/1.jsonl", 2, "a NUL byte in the line"),
        ("web/3.jsonl", 1, "invalid JSON"),
    ]
    assert con.execute('select file, "row" from meta.duplicates order by 1').fetchall() == [
        ("web/2.csv", 1),
        ("web/3.jsonl", 2),
    ]
    assert con.execute(
        "select file, rows_read, rows_loaded, rows_quarantined, rows_duplicate"
        " from meta.ingested_files order by 1"
    ).fetchall() == [("web/1.jsonl", 3, 2, 1, 0), ("web/2.csv", 2, 1, 0, 1),
                     ("web/3.jsonl", 3, 1, 1, 1)]  # fmt: skip


def test_a_bad_file_fails_its_batch_and_earlier_batches_stay(con, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_jsonl(inbox / "web" / "1.jsonl", [web("x", 0, "d1")])
    (inbox / "web" / "2.parquet").write_bytes(b"not parquet")
    with pytest.raises(FileError, match=r"2\.parquet"):
        ingest_source(con, SOURCES["web"], inbox, sql_params(FunnelConfig()), batch_bytes=1)
    assert con.execute("select file from meta.ingested_files").fetchall() == [("web/1.jsonl",)]
    (inbox / "web" / "2.parquet").unlink()
    write_jsonl(inbox / "web" / "2.jsonl", [web("x", 1, "d1"), web("y", 1, "d1")])
    report = ingest(con, inbox)
    assert (report.files_loaded, report.files_skipped) == (["web/2.jsonl"], ["web/1.jsonl"])
    assert (report.rows.loaded, report.rows.duplicate) == (1, 1)


# The same hostile rows in every source and format: (id, timestamp, usable identifiers?)
MATRIX_ROWS = [
    ("g1", "2026-08-03T11:00:00+02:00", True),  # loaded
    (None, "2026-08-03T09:00:00Z", True),  # missing id
    ("t1", "not a time", True),  # unparseable timestamp
    ("t2", "2999-01-01T00:00:00Z", True),  # far future
    ("t3", "1999-12-31T23:59:59Z", True),  # before 2000
    ("j1", "2026-08-03T09:00:00Z", False),  # junk identifiers only
    ("g1", "2026-08-03T09:00:00Z", True),  # a duplicate of the first row
    ("g2", "2026-08-03T09:00:00", True),  # no offset: UTC, loaded
]
IDENTITY = {
    "web": ({"anonymousId": "a1", "type": "page"}, {"anonymousId": "unknown", "type": "page"}),
    "crm": (
        {"contact_id": "c1", "event_type": "note"},
        {"contact_id": "null", "email": "test@example.com", "event_type": "note"},
    ),
    "email": (
        {"email": "a@shop.io", "event": "open"},
        {"email": "test@example.com", "event": "open"},
    ),
}
ID_FIELD = {"web": "messageId", "crm": "event_id", "email": "event_id"}
TIME_FIELD = {"web": "timestamp", "crm": "occurred_at", "email": "timestamp"}


def matrix_records(source: str) -> list[dict]:
    good, junk = IDENTITY[source]
    return [
        {ID_FIELD[source]: event_id, TIME_FIELD[source]: at, **(good if usable else junk)}
        for event_id, at, usable in MATRIX_ROWS
    ]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
@pytest.mark.parametrize("source", ["web", "crm", "email"])
def test_hostile_rows_in_every_source_and_format(con, tmp_path: Path, source: str, fmt: str):
    records = matrix_records(source)
    columns = sorted({k for r in records for k in r})
    path = tmp_path / "inbox" / source / f"rows.{fmt}"
    path.parent.mkdir(parents=True)
    if fmt == "jsonl":
        write_jsonl(path, records)
    elif fmt == "csv":
        write_csv(path, columns, records)
    else:
        pq.write_table(pa.table({c: [r.get(c) for r in records] for c in columns}), path)
    report = ingest(con, tmp_path / "inbox", source)
    r = report.rows
    assert (r.read, r.loaded, r.quarantined, r.duplicate) == (8, 2, 5, 1)
    reasons = [
        x for (x,) in con.execute('select reason from meta.quarantine order by "row"').fetchall()
    ]
    assert [x.split(":")[0].split(" (")[0] for x in reasons] == [
        f"missing {ID_FIELD[source]}",
        f"unparseable {TIME_FIELD[source] if source == 'crm' else 'timestamp'}",
        "timestamp out of range",
        "timestamp out of range",
        "email is not a usable address" if source == "email" else "no usable identifier",
    ]
    times = con.execute(
        f"select occurred_at_utc from {SOURCES[source].table} order by 1"
    ).fetchall()
    assert [str(t) for (t,) in times] == ["2026-08-03 09:00:00", "2026-08-03 09:00:00"]


def test_files_read_side_by_side_take_turns_within_the_memory_limit(tmp_path: Path) -> None:
    # each compressed file's read holds a 256 MB buffer: eight at once ran out of 700 MB
    base = FunnelConfig()
    cfg = base.model_copy(
        update={
            "warehouse": base.warehouse.model_copy(update={"memory_limit": "700MB", "threads": 8})
        }
    )
    for i in range(8):
        events = [web(f"m{i}-{n}", n, "a1") for n in range(1000)]
        write_jsonl(tmp_path / "inbox" / "web" / f"{i}.jsonl.gz", events)
    with connect(tmp_path / "w.duckdb", cfg) as con:
        report = ingest_source(con, SOURCES["web"], tmp_path / "inbox", sql_params(cfg))
    assert (report.rows.read, report.rows.loaded) == (8000, 8000)
