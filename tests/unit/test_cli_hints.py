"""Did-you-mean hints (meshgov_cli.hints): a producer's database name is answered with its central
name (ADR 0003); anything else with the closest known names; nothing close, no hint."""

from __future__ import annotations

from meshgov_cli.hints import central_names_of, database_hint, did_you_mean, table_hint

PRODUCERS = {"222222222222": "sales", "444444444444": "hr"}
CENTRAL = ["sales_sales", "sales_orders", "hr_people"]


def test_a_producer_database_name_is_answered_with_its_central_name() -> None:
    assert central_names_of("sales", PRODUCERS) == ["hr_sales", "sales_sales"]
    hint = database_hint("sales", CENTRAL, PRODUCERS)
    assert hint.startswith(" (did you mean sales_sales?")
    assert "<domain>_<database>" in hint
    assert database_hint("People", CENTRAL, PRODUCERS).startswith(" (did you mean hr_people?")


def test_a_misspelt_name_gets_the_closest_names_and_a_far_one_none() -> None:
    assert database_hint("sales_ordrs", CENTRAL, PRODUCERS) == (
        " (did you mean sales_orders or sales_sales?)"  # best first
    )
    assert database_hint("finance", CENTRAL, PRODUCERS) == ""
    assert table_hint("Ordrs", ["orders", "regions"]) == " (did you mean orders?)"
    assert did_you_mean("req-abc", []) == ""
