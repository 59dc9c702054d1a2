"""Names a consumer could be fooled by, and names Athena cannot query, are refused (issue 12).

Non-ASCII letters are written as escapes: the point of the module is that they look like ASCII.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshgov.audit import Auditor, AuditOutcome
from meshgov.audit.memory import MemoryAuditTrail
from meshgov.aws.arns import Arns
from meshgov.catalog.confusables import NameRule, refusal, skeleton
from meshgov.catalog.events_out import NAME_REFUSED, CatalogEventPublisher
from meshgov.catalog.name_gate import NameGate
from meshgov.catalog.naming import Producer
from meshgov.catalog.publication import (
    database_published,
    is_resource_link,
    table_published_in,
)
from meshgov.contracts.glue_events import NameRefusedDetail
from meshgov.contracts.names import athena_name_problem

CYRILLIC_O = "\u043e"  # looks like o
CYRILLIC_SCOPE = "\u0455\u0441\u043e\u0440\u0435"  # looks like scope
GREEK_OPO = "\u03bf\u03c1\u03bf"  # looks like opo
LATIN_ALPHA = "\u0251"  # looks like a
RUSSIAN_GOODS = "\u0442\u043e\u0432\u0430\u0440\u044b"  # a Russian word, no Latin look-alike
FULLWIDTH_O = "\uff4f"

ASCII_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=40)


# --- Athena ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("Orders", "upper-case U+004F"),
        ("my-table", "U+002D (HYPHEN-MINUS)"),
        (" orders", "U+0020 (SPACE)"),
        ("orders\u200b", "U+200B (ZERO WIDTH SPACE)"),
        ("a.b", "U+002E"),
        ("", "0 bytes"),
        ("x" * 256, "256 bytes"),
        ("\u00e9" * 128, "256 bytes"),  # 128 characters, but 2 bytes each in UTF-8
    ],
)
def test_names_athena_cannot_query_are_refused_with_the_character_named(
    name: str, says: str
) -> None:
    problem = athena_name_problem(name)
    assert problem is not None and says in problem
    found = refusal(name)
    assert found is not None and found.rule is NameRule.NOT_QUERYABLE


@pytest.mark.parametrize("name", ["orders", "t0", "_raw", "2026_sales", "x" * 255, "caf\u00e9"])
def test_names_athena_can_query_pass(name: str) -> None:
    assert athena_name_problem(name) is None


# --- confusables -------------------------------------------------------------------------------


def test_a_cyrillic_o_next_to_an_existing_orders_is_refused() -> None:
    found = refusal(f"{CYRILLIC_O}rders", namespace=["orders"])
    assert found is not None
    assert found.rule is NameRule.MIXED_SCRIPT
    assert "CYRILLIC, LATIN" in found.reason


def test_a_whole_script_look_alike_of_an_ascii_word_is_refused_before_its_twin_exists() -> None:
    spoofs = ((CYRILLIC_SCOPE, "scope"), (GREEK_OPO, "opo"), (f"d{LATIN_ALPHA}ta", "data"))
    for name, reads in spoofs:
        found = refusal(name)
        assert found is not None, name
        assert found.rule is NameRule.LOOKS_ASCII
        assert found.confusable_with == reads


def test_compatibility_characters_are_refused() -> None:
    found = refusal(f"{FULLWIDTH_O}rders")
    assert found is not None and found.rule is NameRule.COMPATIBILITY_FORM
    assert found.confusable_with == "orders"


def test_a_name_in_another_script_is_published_beside_ascii_names() -> None:
    assert refusal(RUSSIAN_GOODS, namespace=["orders", "sales_sales"]) is None
    assert refusal(f"sales_{RUSSIAN_GOODS}", namespace=["sales_sales"]) is None
    assert refusal("\u5546\u54c1\u306e\u8a18\u9332") is None  # Han + Hiragana: highly restrictive


def test_two_non_ascii_names_with_one_skeleton_collide() -> None:
    # Given a Russian name ending in the digit 6, published, and a newcomer ending in the
    # Cyrillic letter be (U+0431), whose prototype is that digit: both pass every other rule
    published, newcomer = f"{RUSSIAN_GOODS}6", f"{RUSSIAN_GOODS}\u0431"
    assert refusal(published) is None and refusal(newcomer) is None
    # When the newcomer is checked against what is published
    found = refusal(newcomer, namespace=[published])
    # Then it is refused, naming the name it looks like
    assert found is not None and found.rule is NameRule.CONFUSABLE
    assert found.confusable_with == published
    # And a name is never compared with itself
    assert refusal(published, namespace=[published]) is None


def test_two_newcomers_with_one_skeleton_are_both_refused() -> None:
    a, b = f"{RUSSIAN_GOODS}6", f"{RUSSIAN_GOODS}\u0431"
    assert refusal(a, newcomers=[a, b]) is not None
    assert refusal(b, newcomers=[a, b]) is not None


def test_the_skeleton_follows_uts39() -> None:
    assert skeleton(f"{CYRILLIC_O}rders") == skeleton("orders") == "orders"
    assert skeleton("m") == skeleton("rn") == "rn"  # a multi-character prototype
    assert skeleton("caf\u00e9") == skeleton("cafe\u0301")  # NFD first


@settings(max_examples=300, deadline=None)
@given(name=ASCII_NAMES, namespace=st.lists(ASCII_NAMES, max_size=5))
def test_a_pure_ascii_name_is_never_refused_for_confusability(
    name: str, namespace: list[str]
) -> None:
    assert refusal(name, namespace=namespace, newcomers=namespace) is None


@settings(max_examples=200, deadline=None)
@given(ascii_name=st.text(alphabet="abcdeiopsxy", min_size=1, max_size=12))
def test_every_cyrillic_look_alike_of_an_ascii_name_is_refused(ascii_name: str) -> None:
    # Given an ASCII name with each letter that has a Cyrillic twin swapped for it
    twins = {
        "a": "\u0430",
        "c": "\u0441",
        "e": "\u0435",
        "i": "\u0456",
        "o": "\u043e",
        "p": "\u0440",
        "s": "\u0455",
        "x": "\u0445",
        "y": "\u0443",
    }
    spoof = "".join(twins.get(c, c) for c in ascii_name)
    if spoof == ascii_name:
        return
    # Then the spoof is refused, whatever is published beside it
    assert refusal(spoof, namespace=[ascii_name]) is not None
    assert refusal(spoof) is not None


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=1, max_size=12))
def test_the_skeleton_is_idempotent(text: str) -> None:
    assert skeleton(skeleton(text)) == skeleton(text)


# --- resource links are never published (defect 9) ---------------------------------------------


def test_a_link_database_is_not_published_whatever_its_parameters_say() -> None:
    link = {
        "Name": "sales_sales",
        "TargetDatabase": {"CatalogId": "111111111111", "DatabaseName": "sales_sales"},
        "Parameters": {"meshgov:publish": "true"},  # the target's, as GetDatabases shows them
    }
    table = {"Name": "t0", "Parameters": {"meshgov:publish": "true"}}
    assert is_resource_link(link)
    assert not database_published(link)
    assert not table_published_in(link, table)
    plain = {"Name": "sales", "Parameters": {"meshgov:publish": "true"}}
    assert database_published(plain) and table_published_in(plain, {"Name": "t0"})


# --- the gate: audit, event, nothing else -------------------------------------------------------


class Events:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, **call: Any) -> dict[str, Any]:
        self.entries.extend(call["Entries"])
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}


def gate() -> tuple[NameGate, MemoryAuditTrail, Events]:
    trail, events = MemoryAuditTrail(), Events()
    arns = Arns("aws", "eu-west-1")
    publisher = CatalogEventPublisher(
        events, "meshgov", member_bus=lambda account: arns.event_bus(account, "meshgov")
    )
    return NameGate(Auditor(trail, "meshgov:catalog-sync"), publisher, arns), trail, events


def test_a_refused_table_is_one_audit_record_and_one_event_on_the_producers_bus() -> None:
    names, trail, events = gate()
    producer = Producer("222222222222", "sales")

    found = names.refused(
        producer,
        "sales",
        "sales_sales",
        "evt-1",
        table=f"{CYRILLIC_O}rders",
        namespace=lambda: ["orders"],
    )

    assert found is not None
    [record] = trail.records
    assert record.entry.action == "catalog:name"
    assert record.entry.outcome is AuditOutcome.REFUSED
    assert record.entry.detail["error_code"] == "NameMixedScript"
    assert record.entry.target.endswith(f":222222222222:table/sales/{CYRILLIC_O}rders")
    [entry] = events.entries
    assert entry["EventBusName"] == "arn:aws:events:eu-west-1:222222222222:event-bus/meshgov"
    assert entry["DetailType"] == NAME_REFUSED and entry["Source"] == "meshgov.catalog"
    detail = NameRefusedDetail.model_validate_json(entry["Detail"])
    assert detail.central_name == f"sales_sales.{CYRILLIC_O}rders"
    assert detail.rule == "NameMixedScript"


def test_an_ascii_name_passes_without_reading_its_namespace() -> None:
    names, trail, events = gate()

    def namespace() -> list[str]:
        raise AssertionError("read for an ASCII name")

    assert names.refused(Producer("222222222222", "sales"), "sales", "sales_sales", "e") is None
    assert (
        names.refused(
            Producer("222222222222", "sales"),
            "sales",
            "sales_sales",
            "e",
            table="orders",
            namespace=namespace,
        )
        is None
    )
    assert trail.records == [] and events.entries == []
