"""Row filters (issue 13): the PartiQL subset Lake Formation accepts in a data cells filter
(https://docs.aws.amazon.com/lake-formation/latest/dg/partiql-support.html), its canonical text,
its DuckDB translation and the narrowing rule. (Column sets are meshgov.access.filters'.)"""

from __future__ import annotations

import functools
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshgov.access.row_filters import (
    MAX_LENGTH,
    RowFilter,
    RowFilterInvalidError,
    narrows,
    parse_row_filter,
)
from meshgov.errors import MeshgovError

# The page's example table: country (String), id (Long), year and month (partition columns),
# plus a struct column, a boolean, a column named like a keyword and a mixed-case one.
COLUMNS = ["country", "id", "year", "month", "customer", "active", "select", "Amount", "email"]
PARTITIONS = ["year", "month"]


def parse(text: str) -> RowFilter:
    return parse_row_filter(text, COLUMNS, partition_columns=PARTITIONS)


def refusal(text: str) -> RowFilterInvalidError:
    with pytest.raises(RowFilterInvalidError) as caught:
        parse(text)
    return caught.value


# --- what Lake Formation accepts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical", "columns"),
    [
        # The page's own examples
        (
            "year > 2010 and country != 'US'",
            '"year" > 2010 AND "country" <> \'US\'',
            ["country", "year"],
        ),
        (
            "(year > 2010 and country = 'US') or (month < 8 and id > 23)",
            '("year" > 2010 AND "country" = \'US\') OR ("month" < 8 AND "id" > 23)',
            ["country", "id", "month", "year"],
        ),
        (
            "(country between 'Z' and 'U') and (year = 2018)",
            "\"country\" BETWEEN 'Z' AND 'U' AND \"year\" = 2018",
            ["country", "year"],
        ),
        (
            "(country like '%ited%') and (year > 2000)",
            '"country" LIKE \'%ited%\' AND "year" > 2000',
            ["country", "year"],
        ),
        (
            "year > 2010 and customer.customerId <> 1",
            '"year" > 2010 AND "customer".customerId <> 1',
            ["customer", "year"],
        ),
        # Each operator the page lists
        ("id >= 10", '"id" >= 10', ["id"]),
        ("id <= -5", '"id" <= -5', ["id"]),
        ("id < 1.5e3", '"id" < 1.5e3', ["id"]),
        ("country IN ('DE', 'FR')", "\"country\" IN ('DE', 'FR')", ["country"]),
        ("country NOT IN ('DE')", "\"country\" NOT IN ('DE')", ["country"]),
        ("NOT country IN ('DE')", "\"country\" NOT IN ('DE')", ["country"]),
        ("id NOT BETWEEN 1 AND 9", '"id" NOT BETWEEN 1 AND 9', ["id"]),
        ("country NOT LIKE 'D%'", "\"country\" NOT LIKE 'D%'", ["country"]),
        ("email IS NULL", '"email" IS NULL', ["email"]),
        ("email IS NOT NULL", '"email" IS NOT NULL', ["email"]),
        (
            "NOT (country = 'DE' OR id = 1)",
            'NOT ("country" = \'DE\' OR "id" = 1)',
            ["country", "id"],
        ),
        ("NOT NOT country = 'DE'", "\"country\" = 'DE'", ["country"]),
        ("active = true", '"active" = TRUE', ["active"]),
        # Keyword-named column escaped with double quotes; any case of a column name
        ("\"select\" = 'x'", "\"select\" = 'x'", ["select"]),
        (
            "COUNTRY = 'DE' AND amount > 0",
            '"country" = \'DE\' AND "amount" > 0',
            ["amount", "country"],
        ),
        # A quote inside a string constant stays one
        ("country = 'Côte d''Ivoire'", "\"country\" = 'Côte d''Ivoire'", ["country"]),
        # Redundant parentheses go; needed ones stay
        ("((country = 'DE'))", "\"country\" = 'DE'", ["country"]),
        (
            "id = 1 AND (country = 'DE' OR country = 'FR')",
            '"id" = 1 AND ("country" = \'DE\' OR "country" = \'FR\')',
            ["country", "id"],
        ),
    ],
)
def test_a_filter_of_the_subset_is_accepted_in_canonical_form(
    text: str, canonical: str, columns: list[str]
) -> None:
    # When a filter of the documented subset is parsed
    row_filter = parse(text)

    # Then its canonical text is what Lake Formation is sent, and it names its columns
    assert row_filter.text == canonical
    assert list(row_filter.columns) == columns
    # And the canonical text is a fixed point
    assert parse(row_filter.text) == row_filter


def test_conjuncts_are_the_top_level_and_terms_in_canonical_form() -> None:
    # Given a filter with nested ANDs and an OR term
    row_filter = parse("(country = 'DE' AND (id > 1)) AND (year = 2024 OR month = 1)")

    # Then its conjuncts are flat, each canonical, the OR term without its parentheses
    assert row_filter.conjuncts == (
        "\"country\" = 'DE'",
        '"id" > 1',
        '"year" = 2024 OR "month" = 1',
    )


def test_a_double_negation_cancels_before_the_conjuncts_are_taken() -> None:
    # Given an AND under NOT NOT (which is the AND itself in three-valued logic)
    row_filter = parse("NOT (NOT (country = 'DE' AND id > 1))")

    # Then its text and its conjuncts agree: two terms, so adding to it still narrows it
    assert row_filter.text == '"country" = \'DE\' AND "id" > 1'
    assert row_filter.conjuncts == ("\"country\" = 'DE'", '"id" > 1')
    assert parse(row_filter.text) == row_filter


# --- what Lake Formation refuses --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        ("country = 'DE' AND", "RowFilterInvalid", "line 1, column 18"),
        ("country = 'DE", "RowFilterInvalid", "unterminated quote"),
        ("country = = 'DE'", "RowFilterInvalid", "not a valid expression"),
        ("   ", "RowFilterInvalid", "empty"),
        ("country = 'DE'; DROP TABLE orders", "RowFilterInvalid", "';' at character 15"),
        ("country = 'DE' -- and the rest", "RowFilterInvalid", "comment"),
        ("country = 'DE' /* hidden */ OR id > 0", "RowFilterInvalid", "comment"),
        ("country = 'D\x00E'", "RowFilterInvalid", "U+0000"),
        ("nation = 'DE'", "RowFilterColumnUnknown", "column 'nation' at character 1"),
        ("country = 'DE' AND t.price > 1", "RowFilterColumnUnknown", "'t'"),
        ("upper(country) = 'DE'", "RowFilterUnsupported", "no function"),
        ("country = lower('DE')", "RowFilterUnsupported", "no function"),
        ("country IN (SELECT country FROM vip)", "RowFilterUnsupported", "no subquery"),
        ("EXISTS (SELECT 1)", "RowFilterUnsupported", "no subquery"),
        ("SELECT * FROM orders", "RowFilterUnsupported", "no subquery"),
        ("DROP TABLE orders", "RowFilterUnsupported", "is not allowed"),
        ("country = email", "RowFilterUnsupported", "only with constants"),
        ('country = "DE"', "RowFilterUnsupported", "single quotes"),
        ("10 < id", "RowFilterUnsupported", "column first"),
        ("id = 1 + 1", "RowFilterUnsupported", "is not allowed"),
        ("country = 'D' || 'E'", "RowFilterUnsupported", "is not allowed"),
        ("country = NULL", "RowFilterUnsupported", "IS NULL"),
        ("active IS TRUE", "RowFilterUnsupported", "IS NULL or IS NOT NULL"),
        ("country ILIKE 'de'", "RowFilterUnsupported", "ILIKE"),
        ("country LIKE 'D!%' ESCAPE '!'", "RowFilterUnsupported", "ESCAPE"),
        ("country LIKE email", "RowFilterUnsupported", "string constant"),
        ("id = DATE '2024-01-01'", "RowFilterUnsupported", "typed literal"),
        ("id = CAST('1' AS INT)", "RowFilterUnsupported", "typed literal"),
        ("id = ?", "RowFilterUnsupported", "parameters"),
        ("active", "RowFilterUnsupported", "a column alone"),
        ("year IS NULL", "RowFilterUnsupported", "partition column 'year'"),
        ("month IS NOT NULL", "RowFilterUnsupported", "partition column 'month'"),
        ("year.part = 1", "RowFilterUnsupported", "nested fields under partition column"),
    ],
)
def test_a_filter_outside_the_subset_is_refused_saying_what_and_where(
    text: str, code: str, says: str
) -> None:
    # When a filter Lake Formation would refuse is parsed
    error = refusal(text)

    # Then meshgov refuses it with the rule's code and a message that names the problem
    assert error.code == code
    assert says in str(error)
    assert isinstance(error, MeshgovError)


def string_filter(prefix: str, length: int) -> str:
    """``<prefix> = 'xx…x'`` of exactly ``length`` characters."""
    head = f"{prefix} = '"
    return head + "x" * (length - len(head) - 1) + "'"


def test_a_filter_of_2048_characters_is_too_long_and_2047_is_not() -> None:
    # Given filters just under and at Lake Formation's limit ("less than 2048 characters")
    fits = string_filter('"country"', MAX_LENGTH)
    too_long = string_filter('"country"', MAX_LENGTH + 1)

    # When / Then 2047 characters are accepted as they are, 2048 are refused
    assert len(fits) == 2047
    assert parse(fits).text == fits
    error = refusal(too_long)
    assert error.code == "RowFilterTooLong"
    assert "2048 characters long" in str(error)


def test_a_filter_whose_quoted_canonical_form_grows_past_the_limit_is_too_long() -> None:
    # Given a 2047-character filter naming its column bare (the canonical form quotes it)
    text = string_filter("country", MAX_LENGTH)

    # When / Then the canonical form is what Lake Formation would receive, and it is refused
    error = refusal(text)
    assert error.code == "RowFilterTooLong"
    assert "canonical form" in str(error)


def test_unknown_columns_are_compared_case_insensitively_and_listed() -> None:
    # Given a table whose column names come in any case
    row_filter = parse_row_filter("AMOUNT > 1", ["Amount"])

    # Then the reference is the Glue (lower-case) name
    assert row_filter.text == '"amount" > 1'

    # And an unknown column's refusal lists the table's columns
    with pytest.raises(RowFilterInvalidError, match=r"its columns: amount\)"):
        parse_row_filter("price > 1", ["Amount"])


# --- narrowing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "narrowed", "verdict"),
    [
        ("country = 'DE'", "country = 'DE' AND id > 10", True),
        ("country = 'DE'", "id > 10 AND (country = 'DE')", True),
        ("country = 'DE' AND id > 10", "id > 10 AND country = 'DE'", True),
        ("country != 'DE'", "country <> 'DE' AND email IS NOT NULL", True),
        ("country = 'DE' OR id = 1", "(country = 'DE' OR id = 1) AND active = true", True),
        ("country = 'DE'", "country = 'DE' OR id = 1", False),
        ("country = 'DE' AND id > 10", "country = 'DE'", False),
        ("country = 'DE'", "country = 'FR'", False),
        # Sound, not complete: a stricter filter of another shape is refused
        ("country IN ('DE', 'FR')", "country IN ('DE')", False),
    ],
)
def test_a_producer_may_only_add_conjuncts(original: str, narrowed: str, verdict: bool) -> None:
    assert narrows(parse(original), parse(narrowed)) is verdict


def test_all_rows_is_narrowed_by_anything_and_widens_anything() -> None:
    some = parse("country = 'DE'")
    assert narrows(None, some) is True
    assert narrows(None, None) is True
    assert narrows(some, None) is False


# --- the DuckDB translation -------------------------------------------------------------------


def test_to_sql_quotes_every_identifier_for_duckdb() -> None:
    row_filter = parse(
        "\"select\" = 'x' AND customer.customerId <> 1 AND country NOT IN ('DE') "
        "AND email IS NOT NULL"
    )
    assert row_filter.to_sql() == (
        '"select" = \'x\' AND "customer"."customerId" <> 1 AND NOT "country" IN (\'DE\') '
        'AND NOT "email" IS NULL'
    )


ROWS: list[tuple[Any, ...]] = [
    # country, id, year, active, select, email
    ("DE", 1, 2023, True, "a", "x@example.com"),
    ("DE", 20, 2024, False, "b", None),
    ("FR", 30, 2024, True, "a", "y@example.com"),
    ("US", 40, 2022, True, None, None),
    ("Deutschland", 50, 2024, False, "c", "z@example.com"),
]


@functools.cache
def _duckdb_table() -> Any:
    duckdb = pytest.importorskip("duckdb")
    connection = duckdb.connect()
    connection.execute(
        'CREATE TABLE t (country VARCHAR, id BIGINT, "year" INTEGER, active BOOLEAN, '
        '"select" VARCHAR, email VARCHAR)'
    )
    connection.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", ROWS)
    return connection


def duckdb_ids(row_filter: RowFilter) -> list[int]:
    """The ids of ROWS the translated filter selects in DuckDB."""
    return duckdb_where(row_filter.to_sql())


def duckdb_where(condition: str) -> list[int]:
    """Run ``condition`` in DuckDB over ROWS (skipped where DuckDB is not installed: it comes
    with ``meshgov query``)."""
    connection = _duckdb_table()
    # The condition is what is under test: parse_row_filter checked it first
    query = f"SELECT id FROM t WHERE {condition} ORDER BY id"  # noqa: S608
    return [row[0] for row in connection.execute(query).fetchall()]


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("country = 'DE'", [1, 20]),
        ("country LIKE 'De%'", [50]),  # LIKE is case-sensitive, as the page says
        ("country = 'DE' AND id > 10", [20]),
        ("country IN ('FR', 'US') OR year = 2023", [1, 30, 40]),
        ("country NOT IN ('DE') AND active = true", [30, 40]),
        ("id BETWEEN 20 AND 40 AND email IS NULL", [20, 40]),
        ("\"select\" = 'a'", [1, 30]),
        ("NOT (\"select\" = 'a')", [20, 50]),  # NULL select: neither in nor out
        ("id <> 1 AND id != 50", [20, 30, 40]),
    ],
)
def test_the_translated_filter_selects_the_rows_in_duckdb(text: str, ids: list[int]) -> None:
    columns = ["country", "id", "year", "active", "select", "email"]
    assert duckdb_ids(parse_row_filter(text, columns)) == ids


# --- properties -------------------------------------------------------------------------------

NAMES = ["country", "id", "select", "email", "active"]
CONSTANTS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.text(alphabet="abcDE' %_é", max_size=6).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.sampled_from(["TRUE", "false"]),
)
COLUMN = st.sampled_from(["country", "id", "email", "active", "COUNTRY", '"select"', '"id"'])
SIMPLE = st.one_of(
    st.tuples(COLUMN, st.sampled_from(["=", "<>", "!=", "<", "<=", ">", ">="]), CONSTANTS).map(
        " ".join
    ),
    st.tuples(COLUMN, st.lists(CONSTANTS, min_size=1, max_size=3), st.booleans()).map(
        lambda t: f"{t[0]} {'NOT IN' if t[2] else 'IN'} ({', '.join(t[1])})"
    ),
    st.tuples(COLUMN, CONSTANTS, CONSTANTS).map(lambda t: f"{t[0]} BETWEEN {t[1]} AND {t[2]}"),
    st.tuples(COLUMN, st.text(alphabet="ab%_", max_size=4)).map(lambda t: f"{t[0]} LIKE '{t[1]}'"),
    st.tuples(COLUMN, st.booleans()).map(lambda t: f"{t[0]} IS {'NOT ' if t[1] else ''}NULL"),
)
FILTERS = st.recursive(
    SIMPLE,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["AND", "OR", "and", "or"]), inner).map(
            lambda t: f"{t[0]} {t[1]} {t[2]}"
        ),
        inner.map(lambda s: f"({s})"),
        inner.map(lambda s: f"NOT ({s})"),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(FILTERS)
def test_the_canonical_text_parses_to_itself(text: str) -> None:
    row_filter = parse_row_filter(text, NAMES)
    again = parse_row_filter(row_filter.text, NAMES)
    assert again == row_filter


@settings(max_examples=200, deadline=None)
@given(FILTERS, FILTERS)
def test_a_filter_narrows_itself_and_adding_a_conjunct_narrows(text: str, extra: str) -> None:
    row_filter = parse_row_filter(text, NAMES)
    assert narrows(row_filter, row_filter)
    stricter = parse_row_filter(f"({extra}) AND ({text})", NAMES)
    assert narrows(row_filter, stricter)
    assert set(row_filter.columns) <= set(stricter.columns)


TYPED_SIMPLE = st.one_of(
    st.tuples(
        st.sampled_from(["country", '"select"', "email"]),
        st.sampled_from(["=", "<>", "!=", "<", ">="]),
        st.sampled_from(["'DE'", "'FR'", "'a'", "'Deutschland'", "''"]),
    ).map(" ".join),
    st.tuples(st.sampled_from(["<", "<=", ">", "=", "<>"]), st.integers(-5, 60)).map(
        lambda t: f"id {t[0]} {t[1]}"
    ),
    st.sampled_from(
        [
            "active = true",
            "active != FALSE",
            "email IS NULL",
            "email IS NOT NULL",
            "country LIKE 'D%'",
            "country NOT LIKE '%E'",
            "country IN ('DE', 'US')",
            "country NOT IN ('FR')",
            "id BETWEEN 10 AND 40",
            "id NOT BETWEEN 2 AND 30",
        ]
    ),
)
TYPED_FILTERS = st.recursive(
    TYPED_SIMPLE,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["AND", "OR"]), inner).map(" ".join),
        inner.map(lambda s: f"({s})"),
        inner.map(lambda s: f"NOT ({s})"),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(TYPED_FILTERS, TYPED_FILTERS)
def test_canonical_form_and_narrowing_keep_their_meaning_in_duckdb(text: str, extra: str) -> None:
    # Given a filter as written, its canonical form, and a stricter filter built from it
    import sqlglot

    columns = ["country", "id", "year", "active", "select", "email"]
    row_filter = parse_row_filter(text, columns)
    stricter = parse_row_filter(f"({text}) AND ({extra})", columns)
    as_written = sqlglot.transpile(text, write="duckdb")[0]

    # Then DuckDB selects the same rows with the canonical form as with the text as written
    # (dropped parentheses and rewritten negations change nothing), and the narrowed filter
    # selects only rows the original does
    assert duckdb_ids(row_filter) == duckdb_where(as_written)
    assert narrows(row_filter, stricter)
    assert set(duckdb_ids(stricter)) <= set(duckdb_ids(row_filter))


# --- the import budget ------------------------------------------------------------------------


def test_importing_row_filters_does_not_import_sqlglot() -> None:
    # Given a fresh interpreter (the Lambda cold start's situation)
    script = "import sys, meshgov.access.row_filters; print('sqlglot' in sys.modules)"
    # When the module is imported, Then sqlglot is not (it loads on the first parse only)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
