"""``meshgov find``: discover data products in the central catalog of a running local mesh.

The command stays thin: :func:`meshgov.discovery.find_products` decides, this module parses the
options and renders. It acts as the central account (the catalog every product is published to),
reached the way ``meshgov watch`` and ``meshgov mesh verify`` reach it (``mesh.json`` in the state
directory, then ``sts.assume_role`` into the account).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape

from meshgov.aws.arns import Arns
from meshgov.contracts_odcs.store import ContractStore
from meshgov.discovery import DataProduct, DiscoveryError, FindQuery, find_products
from meshgov.lineage.known import MeshEdges
from meshgov.lineage.neighbours import Neighbour, ProductLineage
from meshgov.usage.report import DEFAULT_DAYS, DayRange
from meshgov_cli.console import fail, out, print_json, reaching, running_mesh
from meshgov_cli.options import Output, OutputOption, StateDirOption, WideOption
from meshgov_cli.reach import lineage_store, request_store, usage_store
from meshgov_cli.tables import Col, FitTable
from meshgov_local.observe import RunningMesh
from meshgov_local.standalone import DEFAULT_STATE_DIR

SHOWN_COLUMNS = 4
SHOWN_CONSUMERS = 3


class TagOptionError(ValueError):
    """A ``--tag`` that is not ``key=value``."""


def parse_tags(options: Sequence[str]) -> dict[str, list[str]]:
    """``["domain=sales", "domain=hr", "pii=yes"]`` -> ``{"domain": ["sales", "hr"], ...}``:
    repeating a key gives it alternative values (any one will do)."""
    tags: dict[str, list[str]] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise TagOptionError(f"--tag must be key=value, got {option!r}")
        values = tags.setdefault(key.strip(), [])
        if value.strip() not in values:
            values.append(value.strip())
    return tags


def access_cell(product: DataProduct) -> str:
    if product.viewer_has_access is None:
        return "-"
    return "[green]yes[/]" if product.viewer_has_access else "[red]no[/]"


def columns_cell(columns: Sequence[str], shown: int = SHOWN_COLUMNS) -> str:
    """The first few column names, and how many more there are."""
    if len(columns) <= shown:
        return ", ".join(columns)
    return f"{', '.join(columns[:shown])}, +{len(columns) - shown} more"


def consumers_cell(product: DataProduct, shown: int = SHOWN_CONSUMERS) -> str:
    """How many principals read the product, and the first few (``role/x (account)``)."""
    if product.consumers is None:
        return "-"
    if not product.consumers:
        return "none"
    names = [
        f"{arn.split(':', 5)[5]} ({arn.split(':')[4]})" if arn.startswith("arn:") else arn
        for arn in product.consumers
    ]
    more = f", +{len(names) - shown} more" if len(names) > shown else ""
    return f"{len(names)}: {', '.join(names[:shown])}{more}"


def freshness_cell(product: DataProduct) -> str:
    if product.freshness is None:
        return "-"
    return product.freshness.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def quality_cell(product: DataProduct) -> str:
    """The latest quality score and its rules (``0.67 (2/3)``); ``-`` when never scored."""
    found = product.quality
    if found is None:
        return "-"
    total = found.rules_passed + found.rules_failed + found.rules_skipped
    return f"{found.score:.2f} ({found.rules_passed}/{total})"


def contract_cell(product: DataProduct) -> str:
    """The contract version in force and its status (``1.0.0`` / ``1.0.0 BREACHED``)."""
    found = product.contract
    if found is None:
        return "-"
    if found.status == "OK":
        return escape(found.version)
    return f"{escape(found.version)} [red]{escape(found.status)}[/]"


def sla_cell(product: DataProduct) -> str:
    """Freshness against the contract's SLA: ``fresh``, ``late 3h``, ``no SLA``."""
    state = product.contract.freshness if product.contract is not None else "no SLA"
    return f"[red]{state}[/]" if state.startswith("late") else state


def lineage_cell(product: DataProduct) -> str:
    """The product's lineage neighbours counted by kind, ``up: 1 job, 1 producer table;
    down: 1 link, 1 principal`` (``-o json`` names them); ``unknown`` without a lineage table."""
    found = product.lineage
    if found is None:
        return "unknown"
    parts = [
        f"{label}: {_counted(side) or 'none'}"
        for label, side in (("up", found.upstream), ("down", found.downstream))
    ]
    return "; ".join(parts)


def _counted(side: Sequence[Neighbour]) -> str:
    """``2 links, 1 job``: how many of each kind, in the order first met. A table reached by a
    grant is a consumer's resource link."""
    counts: dict[str, int] = {}
    for n in side:
        kind = "link" if (n.kind, n.via) == ("table", "grant") else n.kind
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{c} {k}{'s' if c > 1 else ''}" for k, c in counts.items())


def products_table(products: Sequence[DataProduct], title: str, *, wide: bool = False) -> FitTable:
    """product, domain, owner, classification, freshness, SLA, contract, quality, columns,
    access, consumers, lineage; at 80 columns the consumers, the lineage and the freshness
    are left out first."""
    table = FitTable(
        title,
        [
            Col("product", no_wrap=True),
            Col("domain", 3),
            Col("owner", 4, no_wrap=True),
            Col("classification", 2),
            Col("freshness (UTC)", 5),
            Col("SLA", 2, no_wrap=True),
            Col("contract", 3, no_wrap=True),
            Col("quality", 4, no_wrap=True),
            Col("columns", 1),
            Col("access", no_wrap=True),
            Col(f"consumers ({DEFAULT_DAYS} d)", 6),
            Col("lineage", 5),
        ],
        wide=wide,
        empty="nothing found",
    )
    for product in products:
        table.add_row(
            f"[bold]{escape(product.name)}[/]",
            escape(product.domain or "-"),
            product.owner_account or "-",
            escape(product.classification or "-"),
            freshness_cell(product),
            sla_cell(product),
            contract_cell(product),
            quality_cell(product),
            escape(columns_cell(product.columns)),
            access_cell(product),
            escape(consumers_cell(product)),
            escape(lineage_cell(product)),
        )
    return table


def find(
    text: Annotated[
        str | None,
        typer.Argument(
            help="Words to search for in table names, descriptions, columns and metadata "
            '(all must occur; "quoted" for an exact value).',
            metavar="TEXT",
            show_default=False,
        ),
    ] = None,
    column: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Only products with a column of this name."),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            help="LF-Tag `key=value` the product must carry; repeat for more keys (all must "
            "hold) or for more values of one key (any will do). `classification=...` matches "
            "the classification shown (the LF-Tag, else the meshgov:classification parameter).",
            metavar="KEY=VALUE",
            show_default=False,
        ),
    ] = None,
    domain: Annotated[
        str | None, typer.Option(metavar="DOMAIN", help="Only products of this domain.")
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option(metavar="ACCOUNT", help="Only products of this producer account (12 digits)."),
    ] = None,
    as_account: Annotated[
        str | None,
        typer.Option(
            "--as-account",
            metavar="ACCOUNT",
            help="Say whether this account (12 digits) can already read each product.",
        ),
    ] = None,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
    wide: WideOption = False,
) -> None:
    """Find data products in the central catalog of a running `meshgov mesh up`.

    Every given criterion must hold; without any, every product is listed. Each product shows
    its domain, owning producer account, classification, when meshgov last synced it and its
    columns; with `--as-account`, whether that account already holds SELECT on it in the
    central Lake Formation (by name, on its database's tables, or through an LF-Tag policy);
    and its consumers: the distinct roles that read it in the last 30 days (UTC, today
    included), from the central usage table; its data contract in force (version, and
    BREACHED when the table broke it) and its freshness against the contract's SLA (`fresh`,
    `late 3h`, `no SLA`, `unchecked` before the catalog sweep first checked it); and its
    lineage neighbours: upstream the producer's table and the jobs that write it, downstream
    the jobs that read it, the consumers' resource links and their principals (counted here,
    named with `-o json`; `unknown` when the mesh has no lineage table).

    Examples: `meshgov find customer`, `meshgov find --column email --tag classification=pii`,
    `meshgov find --domain sales --as-account 333333333333 -o json`.
    """
    console = out()
    try:
        query = FindQuery(
            text=text,
            column=column,
            tags=parse_tags(tag or []),
            domain=domain,
            owner=owner,
            viewer_account=as_account,
        )
    except (TagOptionError, DiscoveryError) as exc:
        fail(str(exc))
    running = running_mesh(state_dir)
    central = running.state.central_account
    with reaching(running.state):
        try:
            products = find_products(
                running.client(central, "glue"),
                running.client(central, "lakeformation"),
                central,
                query,
                usage=usage_store(running),
                span=DayRange.last(datetime.now(UTC).date()),
                contracts=ContractStore(
                    running.client(central, "dynamodb"), running.state.ledger_table_name
                ),
                now=datetime.now(UTC),
                lineage=_product_lineage(running),
            )
        except DiscoveryError as exc:
            fail(str(exc))
    if output is Output.JSON:
        print_json([product.as_dict() for product in products])
        return
    title = f"{len(products)} data product(s) in the central catalog of account {central}"
    if as_account:
        title += f"; access as account {as_account}"
    console.print(products_table(products, title, wide=wide))


def _product_lineage(running: RunningMesh) -> ProductLineage:
    """The run events' graph and meshgov's own edges, read as the central account."""
    state = running.state
    central = state.central_account
    producers = {m.account_id: m.domain for m in state.members if m.domain}
    arns = Arns.for_region(state.region)
    known = MeshEdges(
        running.client(central, "glue"), request_store(running), central, producers, arns
    )
    return ProductLineage(lineage_store(running), known, central, producers, arns)
