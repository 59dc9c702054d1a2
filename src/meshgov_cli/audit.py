"""``meshgov audit verify`` and ``meshgov audit show``: the audit trail of a running local mesh,
read as the central account.

``verify`` reads the trail's metadata and every shard's head, then each shard's records in
``seq`` order (the ``by-seq`` index; docs/adr/0019-sharded-audit-trail.md), and the signed
digests when a digest bucket and key are known (``--digest-bucket``/``--digest-key`` or the
mesh's state), and names the first problem (:mod:`meshgov.audit.verify`). Exit codes:
0 the trail verifies, 1 it does not, 2 it could not be verified (mesh, table or digests
unreachable). ``show`` filters the records. The work is in the library; this module parses and
renders.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape

from meshgov.access.core import OWNERSHIP
from meshgov.access.store import RequestRecord
from meshgov.audit import AuditOutcome, AuditRecord
from meshgov.audit.dynamodb import TrailHeads, read_chain, verify_trail
from meshgov.audit.verify import DigestLike, Verdict
from meshgov.errors import MeshgovError
from meshgov_cli.console import err, fail, out, print_json, running_mesh
from meshgov_cli.hints import unknown_request
from meshgov_cli.options import Output, OutputOption, StateDirOption, WideOption
from meshgov_cli.reach import request_store
from meshgov_cli.tables import Col, FitTable
from meshgov_local.observe import RunningMesh, detail_summary
from meshgov_local.standalone import DEFAULT_STATE_DIR
from meshgov_local.state import MeshState
from meshgov_local.views import OUTCOME_STYLE

PASSED, FAILED, CANNOT_VERIFY = 0, 1, 2

audit_app = typer.Typer(
    help="Verify and read the central audit trail (hash chain and signed digests).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["--help", "-h"]},
)


# --------------------------------------------------------------------------------------------
# meshgov audit verify
# --------------------------------------------------------------------------------------------


def _digest_source(state: MeshState, bucket: str | None, key: str | None) -> tuple[str, str]:
    """The digest bucket and signing key: the options, else what the mesh's state records."""
    bucket = bucket or _state_field(state, "digest_bucket_name", "audit_digest_bucket_name")
    key = key or _state_field(state, "digest_key_id", "audit_digest_key_arn")
    return bucket, key


def _state_field(state: MeshState, *names: str) -> str:
    for name in names:
        value = getattr(state, name, "")
        if value:
            return str(value)
    return ""


def load_digests(running: RunningMesh, bucket: str, key: str) -> tuple[Sequence[DigestLike], str]:
    """The digests to check and a note on them (``no digests ...`` when there are none to
    read). Raises :class:`MeshgovError` (DigestReadError) when they cannot be read."""
    if not bucket or not key:
        return (), "no digests: no digest bucket and key known (--digest-bucket, --digest-key)"
    try:
        from meshgov.audit.digests import load_digest_views
    except ImportError:
        return (), "no digests: this meshgov cannot read digests (meshgov.audit.digests missing)"
    central = running.state.central_account
    views = load_digest_views(
        running.client(central, "s3"), running.client(central, "kms"), bucket, key
    )
    if not views:
        return (), f"no digests: none written yet in {bucket}"
    return views, f"{len(views)} digest(s) from {bucket}"


def verdict_dict(verdict: Verdict, heads: TrailHeads, digest_note: str) -> dict[str, Any]:
    return {
        "pass": verdict.ok,
        "records_checked": verdict.records_checked,
        "digests_checked": verdict.digests_checked,
        "last_seq": verdict.last_seq,
        "shards": heads.shards or 0,
        "head_seq": heads.record_count,
        "digests": digest_note,
        "problem": (
            {
                "kind": verdict.problem.kind,
                "shard": verdict.problem.shard,
                "seq": verdict.problem.seq,
                "message": verdict.problem.message,
                "digest": verdict.problem.digest or None,
            }
            if verdict.problem
            else None
        ),
    }


@audit_app.command("verify")
def verify(
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    digest_bucket: Annotated[
        str | None,
        typer.Option(help="The S3 bucket of the signed digests (default: from the mesh state)."),
    ] = None,
    digest_key: Annotated[
        str | None,
        typer.Option(help="The trail's KMS signing key: id, ARN or alias (default: from state)."),
    ] = None,
    output: OutputOption = Output.TABLE,
) -> None:
    """Prove the audit trail is intact: every record's hash, each shard's chain (links and
    order) and head, and the signed digests (signature, key, digest chain, every shard's head).

    Prints PASS or FAIL, the counts and the first problem with its kind and shard: `edit`,
    `deletion`, `insertion`, `reorder`, `truncation`, `shards`, `digest-signature`, `digest-key`,
    `digest-chain`, `digest-heads`, `digest-mismatch`. Exit code 0 pass, 1 fail, 2 cannot
    verify (the reason on stderr; with `-o json` also as `{"pass": null, "error": ...}` on
    stdout).
    """
    running = running_mesh(state_dir, CANNOT_VERIFY)
    table = running.state.audit_table_name
    bucket, key = _digest_source(running.state, digest_bucket, digest_key)
    try:
        digests, note = load_digests(running, bucket, key)
        verdict, heads = verify_trail(
            running.client(running.state.central_account, "dynamodb"), table, digests
        )
    except (ClientError, BotoCoreError, MeshgovError) as exc:
        if output is Output.JSON:
            print_json({"pass": None, "error": str(exc)})
        fail(f"cannot verify the audit trail in {table}: {exc}", CANNOT_VERIFY)
    data = verdict_dict(verdict, heads, note)
    if output is Output.JSON:
        print_json(data)
    else:
        _print_verdict(out(), table, data)
    raise typer.Exit(PASSED if verdict.ok else FAILED)


def _print_verdict(console: Console, table: str, data: dict[str, Any]) -> None:
    mark = "[bold green]PASS[/]" if data["pass"] else "[bold red]FAIL[/]"
    console.print(
        f"{mark} audit trail {table}: {data['records_checked']} record(s) checked "
        f"({data['head_seq']} by the heads of {data['shards']} shard(s)), "
        f"{data['digests_checked']} digest(s) checked",
        highlight=False,
    )
    console.print(f"  digests: {escape(data['digests'])}", highlight=False)
    problem = data["problem"]
    if problem:
        console.print(
            f"  first problem: [bold]{problem['kind']}[/] at shard {problem['shard']} seq "
            f"{problem['seq']}: "
            f"{escape(problem['message'])}",
            highlight=False,
            soft_wrap=True,
        )


# --------------------------------------------------------------------------------------------
# meshgov audit show
# --------------------------------------------------------------------------------------------


def parse_time(text: str, option: str) -> datetime:
    """ISO 8601 date or date-time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{option}: not an ISO 8601 date or time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def table_matches(record: AuditRecord, wanted: str) -> bool:
    """``orders``, ``sales_sales.orders`` or ``sales_sales/orders`` against the record's target
    (``table/<db>/<table>`` or a Glue table ARN) and the tables its detail names."""
    wanted = wanted.replace(".", "/")
    target = record.entry.target
    if "table/" in target:
        qualified = target.rsplit("table/", 1)[1]
        if wanted in (qualified, qualified.rsplit("/", 1)[-1]):
            return True
    tables = record.entry.detail.get("tables") or []
    return isinstance(tables, list) and any(
        wanted in (str(t), str(t).rsplit("/", 1)[-1]) for t in tables
    )


def databases_holding(records: Iterable[AuditRecord], table: str) -> set[str]:
    """The central databases the trail shows a table ``table`` in (its catalog records'
    targets, ``table/<db>/<table>`` or a Glue table ARN)."""
    name = table.lower()
    found = set()
    for record in records:
        target = record.entry.target
        if "table/" in target:
            database, _, named = target.rsplit("table/", 1)[1].rpartition("/")
            if database and named.lower() == name:
                found.add(database)
    return found


def requests_covering(
    requests: Iterable[RequestRecord], wanted: str, holding: Collection[str]
) -> frozenset[str]:
    """The ids of the access requests that cover the table ``wanted`` (``orders``,
    ``sales_sales.orders`` or ``sales_sales/orders``): those naming it (by name, or matched by
    their LF-Tag expression) and those for the whole of a database holding it (``holding``:
    the databases a table of that name is in, when ``wanted`` names no database). A producer's
    standing ownership share of its own databases is no request about a table: it would add
    the same records to every table of the producer."""
    database, _, name = wanted.replace("/", ".").rpartition(".")
    name = name.lower()
    ids = set()
    for request in requests:
        if request.kind == OWNERSHIP:
            continue
        for cover in request.coverage:
            if database and cover.database != database:
                continue
            if name in {t.lower() for t in cover.tables} or (
                cover.whole and not cover.tables and (database or cover.database in holding)
            ):
                ids.add(request.request_id)
    return frozenset(ids)


def about_request(record: AuditRecord, request_ids: Collection[str]) -> bool:
    """A record about one of the requests: the request, its decision, grants, links, revocation
    (access records name the request as target or correlation id)."""
    entry = record.entry
    return entry.correlation_id in request_ids or entry.target in request_ids


def correlated(correlation_id: str, wanted: str) -> bool:
    """``correlation_id`` is ``wanted``'s, or one of its parts: a fan-out sweep's work items are
    ``<sweep id>/<item>`` (meshgov.catalog.fanout.WorkItem.item_id)."""
    return correlation_id == wanted or correlation_id.startswith(f"{wanted}/")


def account_matches(record: AuditRecord, account: str) -> bool:
    entry = record.entry
    return (
        account in entry.actor
        or account in entry.target
        or account in json.dumps(dict(entry.detail), default=str)
    )


def select(
    records: Iterable[AuditRecord],
    *,
    request: str | None = None,
    account: str | None = None,
    table: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    outcome: AuditOutcome | None = None,
    table_requests: Collection[str] = (),
) -> list[AuditRecord]:
    """The records every given filter keeps (``action`` may be a glob: ``glue:*``). ``table``
    keeps the records about the table and, ``table_requests``, those about the access requests
    covering it (:func:`requests_covering`)."""
    kept = []
    for record in records:
        entry = record.entry
        if request and not correlated(entry.correlation_id, request):
            continue
        if since and record.recorded_at < since:
            continue
        if until and record.recorded_at > until:
            continue
        if action and not fnmatch.fnmatchcase(entry.action, action):
            continue
        if outcome and entry.outcome is not outcome:
            continue
        if account and not account_matches(record, account):
            continue
        if table and not (table_matches(record, table) or about_request(record, table_requests)):
            continue
        kept.append(record)
    return kept


def records_table(records: Sequence[AuditRecord], title: str, *, wide: bool = False) -> FitTable:
    """One row per record; at 80 columns: shard/seq, action, outcome, target, reason (and what
    fits)."""
    table = FitTable(
        title,
        [
            Col("shard/seq", no_wrap=True, justify="right"),
            Col("time (UTC)", 2),
            Col("action", no_wrap=True),
            Col("outcome", no_wrap=True),
            Col("actor", 3),
            Col("target"),
            Col("request", 1),
            Col("reason / detail"),
        ],
        wide=wide,
        empty="no records",
    )
    for record in records:
        entry = record.entry
        table.add_row(
            f"{record.shard}/{record.seq}",
            record.recorded_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            escape(entry.action),
            f"[{OUTCOME_STYLE.get(entry.outcome, 'white')}]{entry.outcome.value}[/]",
            escape(entry.actor),
            escape(entry.target),
            escape(entry.correlation_id),
            escape(detail_summary(record)),
        )
    return table


@audit_app.command("show")
def show(
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    request: Annotated[
        str | None,
        typer.Option(
            help="Only this request, event or sweep id (correlation id; a sweep's work items too)."
        ),
    ] = None,
    account: Annotated[
        str | None, typer.Option(help="Only records naming this account (actor, target, detail).")
    ] = None,
    table: Annotated[
        str | None, typer.Option(help="Only records about this table: `orders` or `db.orders`.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="From this UTC time (ISO 8601: 2026-11-25 or ...T12:00).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Up to this UTC time (ISO 8601).")] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action; a glob works: `glue:*`.")
    ] = None,
    outcome: Annotated[
        AuditOutcome | None, typer.Option(case_sensitive=False, help="Only this outcome.")
    ] = None,
    limit: Annotated[
        int, typer.Option(help="Show at most the last N matching records; 0: all.", min=0)
    ] = 200,
    output: OutputOption = Output.TABLE,
    wide: WideOption = False,
) -> None:
    """Show audit records, oldest first, filtered by request, account, table, time, action and
    outcome (all filters must hold). Records are read from the text their hash covers.

    Exit code 0 shown (also when nothing matches), 1 the mesh or the trail could not be read,
    2 a usage error (e.g. a bad `--since`)."""
    since_at = parse_time(since, "--since") if since else None
    until_at = parse_time(until, "--until") if until else None
    running = running_mesh(state_dir)
    try:
        records = list(
            read_chain(
                running.client(running.state.central_account, "dynamodb"),
                running.state.audit_table_name,
            )
        )
        covering: frozenset[str] = frozenset()
        if table:
            holding = databases_holding(records, table.replace("/", ".").rpartition(".")[2])
            covering = requests_covering(request_store(running).all(), table, holding)
        kept = select(
            records,
            request=request,
            account=account,
            table=table,
            since=since_at,
            until=until_at,
            action=action,
            outcome=outcome,
            table_requests=covering,
        )
        if request and not kept and not any(r.entry.correlation_id == request for r in records):
            # nothing about it at all: most likely a mistyped id (request ids are the usual one)
            err().print(
                "note: " + unknown_request(request, request_store(running).all()),
                markup=False,
                highlight=False,
            )
    except (ClientError, BotoCoreError, MeshgovError) as exc:
        fail(f"the audit trail could not be read: {exc}")
    shown = kept[-limit:] if limit else kept
    if output is Output.JSON:
        print_json([r.as_dict() for r in shown])
        return
    title = f"Audit records ({len(shown)} of {len(kept)} matching)"
    out().print(records_table(shown, title, wide=wide))
