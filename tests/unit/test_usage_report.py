"""What usage says, the pure part: per (principal, table) totals over a range of days, the query
`meshgov usage` accepts, and the last use of each posture access row."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from meshgov.posture import PostureInputs, Product, build_report
from meshgov.posture.reader import read_usage
from meshgov.posture.report import covered_tables, expression_key
from meshgov.usage.report import (
    EVERY_DAY,
    NEVER,
    DayRange,
    UsageQuery,
    UsageQueryError,
    consumers,
    last_use,
    latest_by_table,
    summarize,
)
from meshgov.usage.store import UsageDay
from tests.unit.test_posture import ANALYST, CENTRAL, CONSUMER, DB, INTERN, record, table_grant
from tests.unit.test_posture import inputs as posture_inputs

OTHER = "555555555555"
STRANGER = f"arn:aws:iam::{OTHER}:role/analyst"
T0, T1 = "sales_orders.t0", "sales_orders.t1"
SPAN = DayRange("2026-12-01", "2026-12-30")


def day(
    when: str,
    *,
    table: str = T0,
    principal: str = ANALYST,
    reads: int = 1,
    first: str = "08:00:00",
    last: str = "09:00:00",
    engines: tuple[str, ...] = ("ATHENA",),
) -> UsageDay:
    return UsageDay(
        table=table,
        principal=principal,
        consumer_account=principal.split(":")[4],
        day=when,
        reads=reads,
        first_use=f"{when}T{first}+00:00",
        last_use=f"{when}T{last}+00:00",
        engines=engines,
    )


# --- the summary ----------------------------------------------------------------------------------


def test_days_of_one_principal_and_table_are_one_row_of_totals() -> None:
    # Given the analyst read t0 on three days, with two engines, and t1 once; the intern t0 once
    days = [
        day("2026-12-03", reads=4, first="10:00:00", last="11:00:00"),
        day("2026-12-01", reads=2, first="07:30:00", last="07:45:00", engines=("UNKNOWN",)),
        day("2026-12-09", reads=1, first="16:00:00", last="18:20:05"),
        day("2026-12-02", table=T1, reads=5),
        day("2026-12-02", principal=INTERN),
    ]

    # When they are summarized over the range
    summary = summarize(days, SPAN)

    # Then each (principal, table) is one row: reads summed, earliest first use, latest last use,
    # every engine, days used; sorted by principal then table
    assert [(r.principal, r.table) for r in summary.rows] == [
        (ANALYST, T0),
        (ANALYST, T1),
        (INTERN, T0),
    ]
    analyst_t0 = summary.rows[0]
    assert analyst_t0.reads == 7 and analyst_t0.days_used == 3
    assert analyst_t0.first_use == "2026-12-01T07:30:00+00:00"
    assert analyst_t0.last_use == "2026-12-09T18:20:05+00:00"
    assert analyst_t0.engines == ("ATHENA", "UNKNOWN")
    assert analyst_t0.consumer_account == CONSUMER
    assert summary.totals == {"reads": 13, "principals": 2, "tables": 2}


def test_days_outside_the_range_and_items_read_twice_are_not_counted() -> None:
    days = [
        day("2026-11-30", reads=100),
        day("2026-12-31", reads=100),
        day("2026-12-01", reads=3),
        day("2026-12-01", reads=3),  # the same item, handed twice (two overlapping reads)
        day("2026-12-30", reads=2),
    ]
    [row] = summarize(days, SPAN).rows
    assert (row.reads, row.days_used) == (5, 2)
    assert row.first_use.startswith("2026-12-01") and row.last_use.startswith("2026-12-30")


def test_no_use_is_an_empty_summary_and_json_says_the_range() -> None:
    summary = summarize([], SPAN)
    assert summary.rows == ()
    assert summary.as_dict() == {
        "since": "2026-12-01",
        "until": "2026-12-30",
        "totals": {"reads": 0, "principals": 0, "tables": 0},
        "usage": [],
    }


def test_json_rows_carry_every_figure() -> None:
    [row] = summarize([day("2026-12-05", reads=3)], SPAN).as_dict()["usage"]
    assert row == {
        "principal": ANALYST,
        "table": T0,
        "consumer_account": CONSUMER,
        "reads": 3,
        "first_use": "2026-12-05T08:00:00+00:00",
        "last_use": "2026-12-05T09:00:00+00:00",
        "engines": ["ATHENA"],
        "days_used": 1,
    }


def test_consumers_are_distinct_principals_and_latest_use_is_per_table() -> None:
    days = [
        day("2026-12-02", principal=INTERN),
        day("2026-12-01"),
        day("2026-12-03", last="12:00:00"),
        day("2026-12-04", table=T1, principal=INTERN, last="01:00:00"),
    ]
    assert consumers(days) == (ANALYST, INTERN)
    assert latest_by_table(days) == {
        T0: "2026-12-03T12:00:00+00:00",
        T1: "2026-12-04T01:00:00+00:00",
    }
    assert last_use(latest_by_table(days), [T0, T1]) == "2026-12-04T01:00:00+00:00"
    assert last_use(latest_by_table(days), ["sales_orders.t9"]) == NEVER


# --- ranges and queries ---------------------------------------------------------------------------


def test_ranges_default_to_the_last_thirty_days_today_included() -> None:
    today = date(2026, 12, 30)
    assert DayRange.last(today) == DayRange("2026-12-01", "2026-12-30")
    assert DayRange.of(None, None, today) == DayRange("2026-12-01", "2026-12-30")
    assert DayRange.of("2026-11-01", None, today) == DayRange("2026-11-01", "2026-12-30")
    assert DayRange.of(None, "2026-11-30", today) == DayRange("2026-11-01", "2026-11-30")
    assert DayRange.of("2026-12-05", "2026-12-05", today) == DayRange("2026-12-05", "2026-12-05")


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2026-12-31", "2026-12-01", "--since 2026-12-31 is after --until 2026-12-01"),
        ("yesterday", None, "--since must be an ISO date"),
        (None, "2026-02-30", "--until is not a date"),
        ("2026-12-01T00:00", None, "--since must be an ISO date"),
    ],
)
def test_bad_ranges_are_refused(since: str | None, until: str | None, message: str) -> None:
    with pytest.raises(UsageQueryError, match=message):
        DayRange.of(since, until, date(2026, 12, 30))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "say whose usage"),
        ({"table": "orders"}, "--table must be database.table"),
        ({"table": "sales_orders."}, "--table must be database.table"),
        ({"principal": "analyst"}, "--principal must be an IAM role ARN"),
        ({"principal": f"arn:aws:iam::{CONSUMER}:user/bob"}, "--principal must be an IAM role"),
        ({"account": "3333"}, "--account must be a 12-digit account id"),
        ({"principal": ANALYST, "account": OTHER}, f"is not in --account {OTHER}"),
        ({"domain": " "}, "--domain must not be empty"),
    ],
)
def test_bad_queries_are_refused(query: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageQueryError, match=message):
        UsageQuery(**query)


def test_every_part_of_a_query_must_hold() -> None:
    query = UsageQuery(table=T0, account=CONSUMER)
    assert query.keeps(day("2026-12-01"))
    assert not query.keeps(day("2026-12-01", table=T1))
    assert not query.keeps(day("2026-12-01", principal=STRANGER))
    by_domain = UsageQuery(domain="sales", principal=ANALYST)
    assert by_domain.keeps(day("2026-12-01"), [T0, T1])
    assert not by_domain.keeps(day("2026-12-01", table="hr_people.employees"), [T0, T1])
    assert not by_domain.keeps(day("2026-12-01", principal=INTERN), [T0, T1])


# --- posture: the last use of each grant ----------------------------------------------------------


def with_usage(data: PostureInputs, usage: dict[str, dict[str, str]] | None) -> PostureInputs:
    return replace(data, usage=usage)


def rows_by_grantee(data: PostureInputs) -> dict[str, Any]:
    return {r.grantee: r for r in build_report(data).access}


def test_a_grant_covers_the_tables_it_lets_read() -> None:
    plain = posture_inputs([], products=(Product(DB, "t0"), Product(DB, "t1")))
    assert covered_tables(table_grant(ANALYST, "t0").resource, plain) == (T0,)
    wildcard = {"Table": {"DatabaseName": DB, "TableWildcard": {}}}
    assert covered_tables(wildcard, plain) == (T0, T1)
    columns = {"TableWithColumns": {"DatabaseName": DB, "Name": "t1", "ColumnNames": ["id"]}}
    assert covered_tables(columns, plain) == (T1,)
    cells = {"DataCellsFilter": {"TableCatalogId": CENTRAL, "DatabaseName": DB, "TableName": "t1"}}
    assert covered_tables(cells, plain) == (T1,)
    expression = [{"TagKey": "domain", "TagValues": ["sales"]}]
    policy = {"LFTagPolicy": {"ResourceType": "TABLE", "Expression": expression}}
    tagged = replace(plain, tag_reach={expression_key(expression, CENTRAL): [(DB, "t1")]})
    assert covered_tables(policy, tagged) == (T1,)
    assert covered_tables({"Database": {"Name": DB}}, plain) == ()


def test_each_access_row_says_when_its_grantee_last_read_what_it_covers() -> None:
    # Given the analyst's request for t0 granted (central to the account, the account to the
    # analyst); the analyst read t0 on the 20th, another role of the account read t0 later and
    # t1 (which the grants do not cover) later still
    usage = {
        ANALYST: {T0: "2026-11-25T10:00:00+00:00"},
        CONSUMER: {T0: "2026-11-28T09:00:00+00:00", T1: "2026-11-29T09:00:00+00:00"},
    }
    # When the report is built
    rows = rows_by_grantee(with_usage(posture_inputs([record()]), usage))
    # Then the analyst's row shows its own last use, the account's the latest of any of its roles
    assert rows[ANALYST].last_used == "2026-11-25T10:00:00+00:00"
    assert rows[CONSUMER].last_used == "2026-11-28T09:00:00+00:00"


def test_a_grant_never_used_says_never_and_unread_usage_says_nothing() -> None:
    data = posture_inputs([record()])
    never = rows_by_grantee(with_usage(data, {ANALYST: {T1: "2026-11-25T10:00:00+00:00"}}))
    assert never[ANALYST].last_used == NEVER and never[CONSUMER].last_used == NEVER
    unread = rows_by_grantee(data)
    assert unread[ANALYST].last_used == "" and unread[CONSUMER].last_used == ""


def test_last_use_is_in_the_json_and_the_markdown() -> None:
    usage = {ANALYST: {T0: "2026-11-25T10:00:00+00:00"}}
    report = build_report(with_usage(posture_inputs([record()]), usage))
    rows = {r["grantee"]: r["last_used"] for r in report.as_dict()["access"]}
    assert rows == {ANALYST: "2026-11-25T10:00:00+00:00", CONSUMER: NEVER}
    markdown = report.as_markdown()
    assert "| last used |" in markdown
    [line] = [line for line in markdown.splitlines() if line.startswith(f"| {ANALYST} |")]
    assert line.rstrip().endswith("| 2026-11-25T10:00:00+00:00 |")


class FakeStore:
    """The reads posture makes of the usage store, and what it answers."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def last_used(self, principal: str, since_day: str) -> dict[str, str]:
        self.calls.append(("last_used", principal, since_day))
        return {T0: "2026-11-25T10:00:00+00:00"}

    def of_account(self, account: str, since_day: str, until_day: str) -> list[UsageDay]:
        self.calls.append(("of_account", account, since_day, until_day))
        return [day("2026-11-20", principal=INTERN), day("2026-11-27", principal=INTERN)]


def test_posture_reads_usage_by_role_or_by_account_once_each_over_every_day() -> None:
    # Given central granted the account t0 and t1 and, behind meshgov's back, a role of another
    # account; the account granted its analyst t0 and t1
    store = FakeStore()
    central = [
        table_grant(CONSUMER, "t0"),
        table_grant(CONSUMER, "t1"),
        table_grant(STRANGER, "t0"),
    ]
    members = {CONSUMER: [table_grant(ANALYST, "t0"), table_grant(ANALYST, "t1")]}
    # When usage is read for the posture report
    found = read_usage(store, central, members)  # type: ignore[arg-type]
    # Then each role is read by principal and the account by account, once each, every day
    assert sorted(store.calls) == [
        ("last_used", ANALYST, EVERY_DAY.since),
        ("last_used", STRANGER, EVERY_DAY.since),
        ("of_account", CONSUMER, EVERY_DAY.since, EVERY_DAY.until),
    ]
    assert found[CONSUMER] == {T0: "2026-11-27T09:00:00+00:00"}
    assert found[ANALYST] == found[STRANGER] == {T0: "2026-11-25T10:00:00+00:00"}
