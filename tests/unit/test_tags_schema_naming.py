"""LF-Tag mirroring, schema comparison, naming and publication rules."""

from __future__ import annotations

import pytest

from meshgov.catalog.canonical import content_hash, prune
from meshgov.catalog.naming import Producer, central_database_name
from meshgov.catalog.publication import database_published, table_published
from meshgov.catalog.tags import TableTags, diff_tags, own_tags, tag_map
from meshgov.errors import NameInvalidError


def test_tag_map_merges_and_sorts_values() -> None:
    pairs = [{"TagKey": "tier", "TagValues": ["gold"]}, {"TagKey": "tier", "TagValues": ["a"]}]
    assert tag_map(pairs) == {"tier": ["a", "gold"]}


def test_own_tags_drop_what_the_database_already_gives() -> None:
    # Given a database tagged domain=sales and a table reporting that tag plus its own
    database = {"domain": ["sales"]}
    on_table = [
        {"TagKey": "domain", "TagValues": ["sales"]},
        {"TagKey": "classification", "TagValues": ["public"]},
    ]
    on_columns = [
        {"Name": "Email", "LFTags": [{"TagKey": "classification", "TagValues": ["pii"]}]},
        {"Name": "id", "LFTags": [{"TagKey": "classification", "TagValues": ["public"]}]},
    ]
    # When reduced to its own tags
    tags = own_tags(database, on_table, on_columns)
    # Then only what differs from the inherited tags remains
    assert tags.table == {"classification": ["public"]}
    assert tags.columns == {"email": {"classification": ["pii"]}}
    assert tags.required_values() == {"classification": {"public", "pii"}}
    assert TableTags.from_dict(tags.as_dict()) == tags


def test_diff_tags_adds_changed_keys_and_removes_dropped_ones() -> None:
    change = diff_tags({"a": ["1"], "b": ["2"]}, {"a": ["9"], "c": ["3"]})
    assert change.add == {"a": ["9"], "c": ["3"]}
    assert change.remove == {"b": ["2"]}
    assert diff_tags({"a": ["1"]}, {"a": ["1"]}).empty


def test_central_names_are_domain_prefixed_and_lower_case() -> None:
    assert central_database_name(Producer("222222222222", "sales"), "Orders") == "sales_orders"


def test_a_name_glue_would_refuse_is_refused() -> None:
    with pytest.raises(NameInvalidError, match="1-255"):
        central_database_name(Producer("222222222222", "sales"), "x" * 250)


@pytest.mark.parametrize(
    ("db_flag", "table_flag", "expected"),
    [
        (None, None, False),
        ("true", None, True),
        ("TRUE", None, True),
        ("true", "false", False),
        (None, "true", True),
        ("yes", None, False),
    ],
)
def test_publication_is_opt_in_with_table_override(
    db_flag: str | None, table_flag: str | None, expected: bool
) -> None:
    db = {"Name": "d", "Parameters": {"meshgov:publish": db_flag} if db_flag else {}}
    tb = {"Name": "t", "Parameters": {"meshgov:publish": table_flag} if table_flag else {}}
    assert table_published(database_published(db), tb) is expected


def test_resource_links_are_never_published() -> None:
    link = {"Name": "t", "TargetTable": {"CatalogId": "1", "DatabaseName": "d", "Name": "t"}}
    assert table_published(True, link) is False


def test_hash_ignores_empties_and_volatile_provenance() -> None:
    a = {"Name": "t", "Parameters": {"meshgov:synced_at": "1", "k": "v"}, "Owner": ""}
    b = {"Name": "t", "Parameters": {"meshgov:synced_at": "2", "k": "v"}, "Retention": None}
    assert content_hash(a) == content_hash(b)
    assert prune({"a": [], "b": {"c": {}}}) == {}
    assert content_hash(a) != content_hash({**a, "Owner": "x"})
