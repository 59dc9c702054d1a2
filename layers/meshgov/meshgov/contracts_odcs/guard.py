"""The catalog's contract hook: publication, breach and refusal for one producer table.

Called by the reconciler (:mod:`meshgov.catalog.reconcile`) only when a table's *contract
digest* — its ``meshgov:contract`` location and contracted shape (:func:`contract_digest`) —
differs from the one in its ledger row, so an unchanged table costs no call at all; and by the
``Contract Published`` event. Each outcome is one audit record:

- ``contract:published`` ``SUCCEEDED``: a new version accepted (each version kept);
- ``contract:published`` ``REFUSED`` with an ``error_code``: not accepted, nothing stored, the
  producer told (``Contract Refused``); the version in force, if any, stays in force;
- ``contract:breached`` ``SUCCEEDED``: the table broke its contract; ``Contract Breached`` on the
  central bus (the access function tells the consumers holding grants) and to the producer. The
  same breach is reported once; a table that keeps its promises again is ``contract:restored``.

A change that breaks the version in force is a breach unless it arrives with a new MAJOR
version (the producer changes the table and its ``meshgov:contract`` together); a new version
that itself drops or loosens a promise of the one in force must be a new major too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from meshgov.audit import Auditor, AuditOutcome
from meshgov.aws.arns import Arns
from meshgov.catalog.canonical import digest
from meshgov.catalog.events_out import CatalogEventPublisher
from meshgov.catalog.naming import Producer
from meshgov.contracts.data_contract_events import (
    CONTRACT_BREACHED,
    CONTRACT_REFUSED,
    ContractBreachedDetail,
    ContractRefusedDetail,
)
from meshgov.contracts_odcs.document import ContractRefusedError, parse_contract, version_key
from meshgov.contracts_odcs.freshness import sla_of
from meshgov.contracts_odcs.store import OK, ContractHead, ContractStore
from meshgov.contracts_odcs.terms import baseline, baseline_shape, breaches, table_shape
from meshgov.lineage.reach import Reach, downstream_detail

CONTRACT_PARAMETER = "meshgov:contract"

ReadContract = Callable[[Producer, str], bytes]


def contract_location(database: Mapping[str, Any] | None, table: Mapping[str, Any]) -> str | None:
    """The table's ``meshgov:contract`` parameter, else its database's (None: no contract)."""
    for params in ((table.get("Parameters") or {}), ((database or {}).get("Parameters") or {})):
        value = str(params.get(CONTRACT_PARAMETER) or "").strip()
        if value:
            return value
    return None


def contract_digest(location: str | None, table: Mapping[str, Any]) -> str | None:
    """What the ledger keeps to know, without a call, that nothing a contract is about changed:
    the location and the table's contracted shape (columns, types, declared nullability,
    partition keys). None when the table names no contract."""
    if location is None:
        return None
    shape = table_shape(table)
    return digest([location, sorted(shape.columns.items()), list(shape.partition_keys)])


class ContractGuard:
    def __init__(
        self,
        *,
        store: ContractStore,
        read: ReadContract,
        auditor: Auditor,
        publisher: CatalogEventPublisher,
        arns: Arns,
        central_account: str,
        clock: Callable[[], datetime],
        downstream: Reach | None = None,
    ) -> None:
        # What a breach reaches downstream (meshgov.lineage.reach; None: not wired).
        self._downstream = downstream
        self._store = store
        self._read = read
        self._auditor = auditor
        self._publisher = publisher
        self._arns = arns
        self._central = central_account
        self._clock = clock

    def check(
        self,
        *,
        producer: Producer,
        source_database: str,
        central_database: str,
        table: Mapping[str, Any],
        location: str | None,
        correlation_id: str,
        force: bool = False,
    ) -> ContractHead | None:
        """Accept a new contract at ``location`` if it is one, then check the table against the
        version in force. ``force``: read ``location`` even if it is the one in force (the
        ``Contract Published`` event: the object may have been replaced). The head after."""
        name = str(table["Name"]).lower()
        head = self._store.head(producer.account_id, source_database, name)
        if location is not None and (force or head is None or location != head.location):
            try:
                accepted = self._candidate(
                    producer, source_database, central_database, table, location, head
                )
            except ContractRefusedError as exc:
                self._refused(producer, central_database, name, location, exc, correlation_id)
            else:
                if accepted is not None:
                    self._store.accept(accepted[0], accepted[1])
                    self._auditor.record(
                        "contract:published",
                        AuditOutcome.SUCCEEDED,
                        self._target(central_database, name),
                        correlation_id,
                        f"contract {accepted[0].contract_id} version {accepted[0].version} "
                        f"in force",
                        account=producer.account_id,
                        location=location,
                        previous=head.version if head is not None else None,
                    )
                    return accepted[0]
        if head is not None:
            return self._enforce(producer, head, table, correlation_id)
        return None

    # --- publication -----------------------------------------------------------------------
    def _candidate(
        self,
        producer: Producer,
        source_database: str,
        central_database: str,
        table: Mapping[str, Any],
        location: str,
        head: ContractHead | None,
    ) -> tuple[ContractHead, dict[str, Any]] | None:
        """The head a valid new contract makes (None: the version in force, unchanged)."""
        name = str(table["Name"]).lower()
        contract = parse_contract(self._read(producer, location))
        terms = contract.terms_for(name)
        if terms is None:
            raise ContractRefusedError(
                "ContractTableUnknown",
                f"contract {contract.contract_id} has no schema object for table {name}",
            )
        promise = baseline(terms, table)
        sla = sla_of(contract.document, name)  # ContractSlaInvalid: a promise nobody can check
        if head is not None:
            if contract.digest == head.digest:
                return None
            if version_key(contract.version) <= version_key(head.version):
                raise ContractRefusedError(
                    "ContractVersionNotNewer",
                    f"version {contract.version} is not newer than {head.version} in force",
                )
            weakened = breaches(head.baseline, baseline_shape(promise))
            if weakened and contract.major <= head.major:
                what = "; ".join(f"{b.kind} {b.column}".strip() for b in weakened)
                raise ContractRefusedError(
                    "ContractNotMajor",
                    f"version {contract.version} breaks promises of {head.version} ({what}): "
                    f"that needs a new major version",
                )
        new_head = ContractHead(
            account_id=producer.account_id,
            source_database=source_database,
            table=name,
            central_database=central_database,
            contract_id=contract.contract_id,
            version=contract.version,
            major=contract.major,
            digest=contract.digest,
            location=location,
            accepted_at=self._clock().isoformat(),
            baseline=promise,
            sla=sla,
        )
        return new_head, contract.document

    def _refused(
        self,
        producer: Producer,
        central_database: str,
        table: str,
        location: str,
        exc: ContractRefusedError,
        correlation_id: str,
    ) -> None:
        self._auditor.record(
            "contract:published",
            AuditOutcome.REFUSED,
            self._target(central_database, table),
            correlation_id,
            str(exc),
            error_code=exc.code,
            account=producer.account_id,
            location=location,
        )
        detail = ContractRefusedDetail(
            producer_account=producer.account_id,
            central_database=central_database,
            table=table,
            location=location,
            rule=exc.code,
            reason=str(exc),
        ).model_dump(by_alias=True)
        self._publisher.tell(
            producer.account_id, CONTRACT_REFUSED, detail, [self._target(central_database, table)]
        )

    # --- enforcement -----------------------------------------------------------------------
    def _enforce(
        self,
        producer: Producer,
        head: ContractHead,
        table: Mapping[str, Any],
        correlation_id: str,
    ) -> ContractHead:
        found = [b.as_dict() for b in breaches(head.baseline, table_shape(table))]
        target = self._target(head.central_database, head.table)
        if not found:
            if head.status == OK:
                return head
            restored = ContractHead(**{**vars(head), "status": OK})
            self._store.put_head(restored)
            self._auditor.record(
                "contract:restored",
                AuditOutcome.SUCCEEDED,
                target,
                correlation_id,
                f"table keeps contract {head.contract_id} {head.version} again",
            )
            return restored
        if head.last_breach is not None and head.last_breach.get("breaches") == found:
            return head  # this breach was reported
        breached = head.breached({"at": self._clock().isoformat(), "breaches": found})
        self._store.put_head(breached)
        detail = ContractBreachedDetail.model_validate(
            {
                "centralDatabase": head.central_database,
                "table": head.table,
                "producerAccount": producer.account_id,
                "domain": producer.domain,
                "contractId": head.contract_id,
                "contractVersion": head.version,
                "breaches": found,
                **downstream_detail(
                    self._downstream,
                    self._arns.glue_table(producer.account_id, head.source_database, head.table),
                ),
            }
        ).model_dump(by_alias=True)
        self._publisher.publish(CONTRACT_BREACHED, detail, [target])
        self._publisher.tell(producer.account_id, CONTRACT_BREACHED, detail, [target])
        self._auditor.record(
            "contract:breached",
            AuditOutcome.SUCCEEDED,  # meshgov's action (detecting, telling) succeeded
            target,
            correlation_id,
            f"table breaks contract {head.contract_id} {head.version}: "
            + "; ".join(f"{b['kind']} {b['column']}".strip() for b in found),
            account=producer.account_id,
            breaches=found,
            downstream=None if detail["downstream"] is None else len(detail["downstream"]),
        )
        return breached

    def _target(self, central_database: str, table: str) -> str:
        return self._arns.glue_table(self._central, central_database, table)
