"""`meshgov find` against a running local mesh (moto server on loopback)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshgov_cli.find import parse_tags
from meshgov_cli.main import app
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.server import moto_server
from meshgov_local.state import MeshState, write_state

runner = CliRunner()
CONSUMER = "333333333333"
WIDE = {"COLUMNS": "250"}  # rich renders the table at this width: one line per row


def table_input(name: str, columns: tuple[str, ...], **parameters: str) -> dict[str, Any]:
    return {
        "Name": name,
        "Description": f"{name} of the shop",
        "StorageDescriptor": {
            "Columns": [{"Name": column, "Type": "string"} for column in columns],
            "Location": f"s3://sales-data/{name}/",
        },
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
    }


@pytest.fixture
def running_mesh(tmp_path: Path) -> Iterator[tuple[LocalMesh, Path]]:
    """A deployed mesh on a moto server where the producer published orders and customers
    (customers tagged sensitivity=pii), with its state files written as `mesh up` does."""
    controls.reset()
    with moto_server() as endpoint:
        mesh = LocalMesh(endpoint_url=endpoint)
        glue = mesh.client(mesh.producer, "glue")
        glue.create_database(
            DatabaseInput={"Name": "sales", "Parameters": {"meshgov:publish": "true"}}
        )
        glue.create_table(
            DatabaseName="sales",
            TableInput=table_input(
                "orders",
                ("id", "customer_id", "amount", "currency", "channel", "placed_at"),
                **{"meshgov:classification": "internal"},
            ),
        )
        glue.create_table(
            DatabaseName="sales",
            TableInput=table_input(
                "customers",
                ("id", "email"),
                **{"meshgov:classification": "pii", "meshgov:owner_contact": "crm@example.com"},
            ),
        )
        lf = mesh.client(mesh.producer, "lakeformation")
        lf.create_lf_tag(TagKey="sensitivity", TagValues=["pii"])
        lf.add_lf_tags_to_resource(
            Resource={"Table": {"DatabaseName": "sales", "Name": "customers"}},
            LFTags=[{"TagKey": "sensitivity", "TagValues": ["pii"]}],
        )
        mesh.settle()
        write_state(tmp_path / "state", MeshState.of(mesh))
        yield mesh, tmp_path / "state"
    controls.reset()


def grant_select(mesh: LocalMesh, table: str) -> None:
    mesh.client(mesh.central, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": CONSUMER},
        Resource={"Table": {"DatabaseName": "sales_sales", "Name": table}},
        Permissions=["SELECT"],
        PermissionsWithGrantOption=["SELECT"],
    )


def row_of(output: str, product: str) -> list[str]:
    """The cells of the table row naming ``product``."""
    [line] = [line for line in output.splitlines() if product in line]
    return [cell.strip() for cell in line.strip().strip("│┃").split("│")]


def test_find_answers_help() -> None:
    result = runner.invoke(app, ["find", "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    for option in ("--column", "--tag", "--domain", "--owner", "--as-account", "--state-dir"):
        assert option in result.output
    assert "--output" in result.output and "TEXT" in result.output


def test_find_lists_products_with_owner_freshness_columns_and_access(
    running_mesh: tuple[LocalMesh, Path],
) -> None:
    # Given the consumer was granted SELECT on customers
    mesh, state_dir = running_mesh
    grant_select(mesh, "customers")
    # When every product is listed as seen by the consumer
    result = runner.invoke(
        app, ["find", "--state-dir", str(state_dir), "--as-account", CONSUMER], env=WIDE
    )
    # Then one row per product says domain, owner, classification, freshness, columns, access
    assert result.exit_code == 0, result.output
    assert "2 data product(s) in the central catalog of account 111111111111" in result.output
    customers = row_of(result.output, "sales_sales.customers")
    orders = row_of(result.output, "sales_sales.orders")
    assert customers[:4] == ["sales_sales.customers", "sales", "222222222222", "pii"]
    # no contract (no SLA); quality: never scored; consumers: nobody read it; lineage: the
    # producer's table upstream, nothing downstream yet
    assert customers[5:] == [
        "no SLA",
        "-",
        "-",
        "id, email",
        "yes",
        "none",
        "up: 1 producer table; down: none",
    ]
    assert orders[:4] == ["sales_sales.orders", "sales", "222222222222", "internal"]
    assert orders[5:] == [
        "no SLA",
        "-",
        "-",
        "id, customer_id, amount, currency, +2 more",
        "no",
        "none",
        "up: 1 producer table; down: none",
    ]
    assert len(customers[4]) == len("2026-11-25 10:00:00") and customers[4][4] == "-"
    # And without --as-account the access column says nothing
    plain = runner.invoke(app, ["find", "--state-dir", str(state_dir)], env=WIDE)
    assert row_of(plain.output, "sales_sales.orders")[9] == "-"


def test_find_filters_and_prints_json(running_mesh: tuple[LocalMesh, Path]) -> None:
    mesh, state_dir = running_mesh
    grant_select(mesh, "customers")
    base = ["find", "--state-dir", str(state_dir), "-o", "json"]
    # When searching by text, with the consumer's view
    by_text = runner.invoke(app, [*base, "email", "--as-account", CONSUMER])
    assert by_text.exit_code == 0, by_text.output
    [customers] = json.loads(by_text.output)
    freshness = customers.pop("freshness")
    assert freshness is not None and freshness.endswith("+00:00")
    assert customers == {
        "product": "sales_sales.customers",
        "database": "sales_sales",
        "table": "customers",
        "domain": "sales",
        "owner_account": "222222222222",
        "classification": "pii",
        "owner_contact": "crm@example.com",
        "columns": ["id", "email"],
        "tags": {"sensitivity": ["pii"]},
        "viewer_has_access": True,
        "consumers": [],  # nobody read it in the last 30 days
        "quality": None,  # never scored
        "contract": None,  # no data contract
        # its direct lineage neighbours: the producer's table, and no consumer link yet
        "lineage": {
            "upstream": [
                {
                    "node": f"arn:aws:glue:{mesh.config.region}:222222222222:table/sales/customers",
                    "kind": "producer table",
                    "via": "catalog",
                }
            ],
            "downstream": [],
        },
    }

    # And by column, tag, domain and owner
    def products(*options: str) -> list[str]:
        result = runner.invoke(app, [*base, *options])
        assert result.exit_code == 0, result.output
        return [p["product"] for p in json.loads(result.output)]

    assert products("--column", "currency") == ["sales_sales.orders"]
    assert products("--tag", "sensitivity=pii") == ["sales_sales.customers"]
    assert products("--tag", "sensitivity=public") == []
    assert products("--domain", "sales") == ["sales_sales.customers", "sales_sales.orders"]
    assert products("--domain", "hr") == []
    assert products("--owner", "222222222222", "shop", "--column", "email") == [
        "sales_sales.customers"
    ]


def test_nothing_found_is_an_empty_table(running_mesh: tuple[LocalMesh, Path]) -> None:
    _, state_dir = running_mesh
    result = runner.invoke(app, ["find", "--state-dir", str(state_dir), "invoices"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "0 data product(s)" in result.output and "(nothing found)" in result.output


def test_bad_queries_fail_with_a_readable_message(running_mesh: tuple[LocalMesh, Path]) -> None:
    _, state_dir = running_mesh
    base = ["find", "--state-dir", str(state_dir)]
    cases = [
        (["--tag", "sensitivity"], "--tag must be key=value"),
        (["--owner", "2222"], "owner must be a 12-digit account id"),
        (["--as-account", "me"], "viewer account must be a 12-digit account id"),
        (["--tag", "colour=red"], "does not exist in the central catalog"),
    ]
    for options, message in cases:
        result = runner.invoke(app, [*base, *options], env=WIDE)
        assert result.exit_code == 1, result.output
        assert "error:" in result.output and message in result.output


def test_find_without_a_running_mesh_says_how_to_start_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["find", "--state-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "meshgov mesh up" in result.output


def test_repeated_tags_are_alternatives_of_one_key() -> None:
    assert parse_tags(["domain=sales", "domain=hr", "pii = yes", "domain=sales"]) == {
        "domain": ["sales", "hr"],
        "pii": ["yes"],
    }


def test_a_classification_tag_query_matches_the_classification_find_shows(
    running_mesh: tuple[LocalMesh, Path],
) -> None:
    # Given orders and customers classified by their meshgov:classification parameter only (no
    # LF-Tag key "classification" exists in the central catalog)
    _, state_dir = running_mesh
    base = ["find", "--state-dir", str(state_dir), "-o", "json"]

    def found(*options: str) -> list[tuple[str, str]]:
        result = runner.invoke(app, [*base, *options])
        assert result.exit_code == 0, result.output
        return [(p["product"], p["classification"]) for p in json.loads(result.output)]

    # When searching by --tag classification=..., Then the products shown with that
    # classification are found (issue 17, item 7: "an LF-Tag key of classification does not
    # exist" before)
    assert found("--tag", "classification=internal") == [("sales_sales.orders", "internal")]
    assert found("--tag", "classification=PII") == [("sales_sales.customers", "pii")]
    assert found("--tag", "classification=internal", "--tag", "classification=pii") == [
        ("sales_sales.customers", "pii"),
        ("sales_sales.orders", "internal"),
    ]
    assert found("--tag", "classification=public") == []
    # And with another LF-Tag, both must hold
    assert found("--tag", "classification=pii", "--tag", "sensitivity=pii") == [
        ("sales_sales.customers", "pii")
    ]
    assert found("--tag", "classification=internal", "--tag", "sensitivity=pii") == []
