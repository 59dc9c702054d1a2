"""Finding data products in the central catalog of the local mesh (meshgov.discovery)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from moto import mock_aws

from meshgov.discovery import DataProduct, FindQuery, FindQueryInvalidError, find_products
from meshgov_local.config import MemberAccount, MemberKind, MeshConfig
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from tests.integration.helpers import columns, create_published_database, table_input
from tests.meshes import MESHES

SALES, HR, CONSUMER = "222222222222", "444444444444", "333333333333"


def _tag(lf: Any, resource: dict[str, Any], key: str, value: str) -> None:
    lf.add_lf_tags_to_resource(Resource=resource, LFTags=[{"TagKey": key, "TagValues": [value]}])


def _publish(mesh: LocalMesh) -> None:
    """Sales publishes orders, customers and returns; HR publishes employees; with LF-Tags."""
    sales, sales_lf = mesh.client(SALES, "glue"), mesh.client(SALES, "lakeformation")
    create_published_database(sales, "retail")
    orders = table_input(
        "orders",
        columns("id:bigint", "customer_id:bigint", "amount:double"),
        columns("day:string"),
        **{
            "meshgov:classification": "internal",
            "meshgov:owner_contact": "orders-team@example.com",
        },
    )
    orders["Description"] = "Orders placed by customers"
    sales.create_table(DatabaseName="retail", TableInput=orders)
    sales.create_table(
        DatabaseName="retail",
        TableInput=table_input(
            "customers",
            columns("id:bigint", "email:string", "country:string"),
            **{"meshgov:classification": "pii", "meshgov:owner_contact": "crm@example.com"},
        ),
    )
    sales.create_table(
        DatabaseName="retail",
        TableInput=table_input("returns", columns("id:bigint", "order_id:bigint", "reason:string")),
    )
    sales_lf.create_lf_tag(TagKey="domain", TagValues=["sales"])
    sales_lf.create_lf_tag(TagKey="sensitivity", TagValues=["pii", "low"])
    _tag(sales_lf, {"Database": {"Name": "retail"}}, "domain", "sales")
    for table, value in (("customers", "pii"), ("orders", "low")):
        _tag(sales_lf, {"Table": {"DatabaseName": "retail", "Name": table}}, "sensitivity", value)

    hr, hr_lf = mesh.client(HR, "glue"), mesh.client(HR, "lakeformation")
    create_published_database(hr, "people")
    hr.create_table(
        DatabaseName="people",
        TableInput=table_input(
            "employees",
            columns("id:bigint", "full_name:string", "country:string"),
            **{"meshgov:classification": "confidential"},
        ),
    )
    hr_lf.create_lf_tag(TagKey="domain", TagValues=["hr"])
    hr_lf.create_lf_tag(TagKey="sensitivity", TagValues=["pii"])
    _tag(hr_lf, {"Database": {"Name": "people"}}, "domain", "hr")
    _tag(hr_lf, {"Table": {"DatabaseName": "people", "Name": "employees"}}, "sensitivity", "pii")
    mesh.settle()


@pytest.fixture
def mesh() -> Iterator[LocalMesh]:
    """Two producers (sales, hr) and a consumer, the four tables published and synced."""
    controls.reset()
    config = MeshConfig(
        members=(
            MemberAccount(SALES, "producer", MemberKind.PRODUCER, domain="sales"),
            MemberAccount(HR, "producer2", MemberKind.PRODUCER, domain="hr"),
            MemberAccount(CONSUMER, "consumer", MemberKind.CONSUMER),
        )
    )
    with mock_aws():
        local = MESHES.mesh(config)
        _publish(local)
        yield local
    controls.reset()


def find(mesh: LocalMesh, **query: Any) -> list[DataProduct]:
    return find_products(
        mesh.client(mesh.central, "glue"),
        mesh.client(mesh.central, "lakeformation"),
        mesh.central,
        FindQuery(**query),
    )


def names(products: list[DataProduct]) -> list[str]:
    return [product.name for product in products]


def test_text_column_domain_and_owner_queries(mesh: LocalMesh) -> None:
    # Given the four published tables, synced to central
    # Then everything is found without a query
    assert names(find(mesh)) == [
        "hr_people.employees",
        "sales_retail.customers",
        "sales_retail.orders",
        "sales_retail.returns",
    ]
    # And text is searched in names, descriptions and columns (customer_id)
    assert names(find(mesh, text="customer")) == [
        "sales_retail.customers",
        "sales_retail.orders",
    ]
    # And a column is a whole column name, partition keys included
    assert names(find(mesh, column="country")) == [
        "hr_people.employees",
        "sales_retail.customers",
    ]
    assert names(find(mesh, column="day")) == ["sales_retail.orders"]
    assert names(find(mesh, column="count")) == []
    # And domain and owner are the provenance meshgov wrote
    assert names(find(mesh, domain="hr")) == ["hr_people.employees"]
    assert names(find(mesh, owner=SALES)) == [
        "sales_retail.customers",
        "sales_retail.orders",
        "sales_retail.returns",
    ]
    assert names(find(mesh, owner=HR, column="email")) == []


def test_tag_queries_are_lake_formation_searches_intersected_with_glue(mesh: LocalMesh) -> None:
    # When searching by mirrored LF-Tags (keys and values in any case)
    pii = find(mesh, tags={"Sensitivity": ["PII"]})
    hr_pii = find(mesh, tags={"sensitivity": ["pii"], "domain": ["hr"]})
    low_or_pii_sales = find(mesh, tags={"sensitivity": ["low", "pii"], "domain": ["sales"]})
    combined = find(mesh, text="customer", domain="sales", tags={"sensitivity": ["low"]})
    # Then each condition must hold, its values are alternatives
    assert names(pii) == ["hr_people.employees", "sales_retail.customers"]
    assert names(hr_pii) == ["hr_people.employees"]
    assert names(low_or_pii_sales) == ["sales_retail.customers", "sales_retail.orders"]
    assert names(combined) == ["sales_retail.orders"]
    # And the tags shown are the table's own and those it inherits from its database
    assert pii[0].tags == {"domain": ["hr"], "sensitivity": ["pii"]}
    # And a key that does not exist centrally is the query's fault
    with pytest.raises(FindQueryInvalidError, match="owner"):
        find(mesh, tags={"owner": ["x"]})


def test_a_product_carries_provenance_business_metadata_and_freshness(mesh: LocalMesh) -> None:
    # Given the time meshgov wrote on the central table
    central = mesh.client(mesh.central, "glue").get_table(
        DatabaseName="sales_retail", Name="orders"
    )["Table"]
    synced_at = datetime.fromisoformat(central["Parameters"]["meshgov:synced_at"])
    # When the product is found
    [orders] = find(mesh, text="orders", domain="sales", column="amount")
    # Then it says who owns it, how to reach them, how fresh it is and how it is tagged
    assert synced_at.tzinfo is not None and synced_at <= datetime.now(UTC)
    assert orders == DataProduct(
        database="sales_retail",
        table="orders",
        domain="sales",
        owner_account=SALES,
        classification="internal",
        owner_contact="orders-team@example.com",
        freshness=synced_at,
        columns=("id", "customer_id", "amount", "day"),
        tags={"domain": ["sales"], "sensitivity": ["low"]},
        viewer_has_access=None,
    )
    [returns] = find(mesh, text="returns")
    assert (returns.classification, returns.owner_contact) == ("", "")
    assert returns.tags == {"domain": ["sales"]}


def test_viewer_access_follows_central_grants(mesh: LocalMesh) -> None:
    central_lf = mesh.client(mesh.central, "lakeformation")
    consumer = {"DataLakePrincipalIdentifier": CONSUMER}

    def access() -> dict[str, bool | None]:
        return {p.name: p.viewer_has_access for p in find(mesh, viewer_account=CONSUMER)}

    # Given no grant yet, Then the consumer reads nothing
    assert set(access().values()) == {False}
    # When central grants the consumer SELECT on customers (with grant option, cross-account)
    central_lf.grant_permissions(
        Principal=consumer,
        Resource={"Table": {"DatabaseName": "sales_retail", "Name": "customers"}},
        Permissions=["SELECT"],
        PermissionsWithGrantOption=["SELECT"],
    )
    # Then customers, and only customers, is readable
    assert access() == {
        "hr_people.employees": False,
        "sales_retail.customers": True,
        "sales_retail.orders": False,
        "sales_retail.returns": False,
    }
    # When central grants DESCRIBE on returns, SELECT on every HR table and an LF-Tag policy
    central_lf.grant_permissions(
        Principal=consumer,
        Resource={"Table": {"DatabaseName": "sales_retail", "Name": "returns"}},
        Permissions=["DESCRIBE"],
    )
    central_lf.grant_permissions(
        Principal=consumer,
        Resource={"Table": {"DatabaseName": "hr_people", "TableWildcard": {}}},
        Permissions=["SELECT"],
    )
    central_lf.grant_permissions(
        Principal=consumer,
        Resource={
            "LFTagPolicy": {
                "ResourceType": "TABLE",
                "Expression": [{"TagKey": "sensitivity", "TagValues": ["low"]}],
            }
        },
        Permissions=["SELECT"],
    )
    # Then describing is not reading, the wildcard covers HR, the policy covers orders
    assert access() == {
        "hr_people.employees": True,
        "sales_retail.customers": True,
        "sales_retail.orders": True,
        "sales_retail.returns": False,
    }
    # And another account's view is its own: a producer holds its own products (meshgov shares
    # each published database back to its owner), not the other domain's
    assert {(p.domain, p.viewer_has_access) for p in find(mesh, viewer_account=SALES)} == {
        ("sales", True),
        ("hr", False),
    }
