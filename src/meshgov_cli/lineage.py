"""``meshgov lineage TABLE --upstream|--downstream [--depth N]``: where a table's data comes from,
or where it goes — jobs and datasets from the members' OpenLineage run events, joined with what
meshgov knows itself (producer table -> central table -> consumer link -> principal).

Reads a running local mesh as the central account (:mod:`meshgov_cli.reach`); the answer is
:func:`meshgov.lineage.query.lineage`. Exit codes (ADR 0015): 0 answered, 1 error (stderr),
2 usage.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from meshgov.access.store import RequestStore
from meshgov.aws.arns import Arns
from meshgov.lineage.graph import Direction, Walk
from meshgov.lineage.known import MeshEdges
from meshgov.lineage.nodes import describe
from meshgov.lineage.query import DEFAULT_DEPTH, LineageQueryInvalidError, answer_dict, lineage
from meshgov_cli.console import EXIT_USAGE, fail, out, print_json, reaching, running_mesh
from meshgov_cli.options import Output, OutputOption, StateDirOption, WideOption
from meshgov_cli.reach import lineage_store, request_store
from meshgov_cli.tables import Col, FitTable
from meshgov_local.standalone import DEFAULT_STATE_DIR


def lineage_table(result: Walk, kinds: dict[str, str], *, wide: bool = False) -> FitTable:
    """One row per edge, nearest first: from, to, who says so."""
    table = FitTable(
        f"Lineage {result.direction.value} of {result.start} (depth {result.depth})"
        + (" - cut at the node limit" if result.truncated else ""),
        [Col("from"), Col("to"), Col("via", no_wrap=True), Col("hops", 2, justify="right")],
        wide=wide,
        empty="no lineage recorded",
    )
    near = result.distances
    far = {e: max(near.get(e.source, 0), near.get(e.target, 0)) for e in result.edges}
    for edge in sorted(result.edges, key=lambda e: (far[e], e.source, e.target)):
        table.add_row(
            escape(f"{edge.source} ({kinds[edge.source]})"),
            escape(f"{edge.target} ({kinds[edge.target]})"),
            edge.via,
            str(far[edge]),
        )
    return table


def lineage_command(
    table: Annotated[
        str, typer.Argument(metavar="TABLE", help="A central table (db.table) or a Glue table ARN.")
    ],
    upstream: Annotated[
        bool, typer.Option("--upstream", help="Where its data comes from.")
    ] = False,
    downstream: Annotated[bool, typer.Option("--downstream", help="Where its data goes.")] = False,
    depth: Annotated[
        int, typer.Option("--depth", min=1, max=50, help="Hops to follow (1-50).")
    ] = DEFAULT_DEPTH,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
    wide: WideOption = False,
) -> None:
    """Show a table's lineage: with `--upstream` the jobs and datasets it comes from, with
    `--downstream` those it feeds, the central table, the consumers' resource links and the
    principals that read it.

    Edges say who says so: `openlineage` (a member's run event), `catalog` (meshgov copied the
    producer's table), `grant` (an access request holds grants on it).

    Examples: `meshgov lineage sales_sales.orders --downstream`, `meshgov lineage
    arn:aws:glue:eu-west-1:222222222222:table/sales/orders --downstream --depth 3 -o json`.
    Exit code 0 answered, 1 on any error (printed to stderr), 2 usage.
    """
    if upstream == downstream:
        fail("say one of --upstream or --downstream", EXIT_USAGE)
    direction = Direction.UPSTREAM if upstream else Direction.DOWNSTREAM
    running = running_mesh(state_dir)
    state = running.state
    central = state.central_account
    producers = {m.account_id: m.domain for m in state.members if m.domain}
    arns = Arns.for_region(state.region)
    with reaching(state):
        requests: RequestStore = request_store(running)
        known = MeshEdges(running.client(central, "glue"), requests, central, producers, arns)
        try:
            result = lineage(
                table, direction, depth, [lineage_store(running).neighbours, known], central, arns
            )
        except LineageQueryInvalidError as exc:
            fail(str(exc))
    if output is Output.JSON:
        print_json(answer_dict(result, central, producers))
        return
    ends = {n for e in result.edges for n in (e.source, e.target)} | set(result.distances)
    kinds = {node: describe(node, central, producers) for node in ends}
    out().print(lineage_table(result, kinds, wide=wide))
