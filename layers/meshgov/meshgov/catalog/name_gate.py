"""The reconciler's gate for new central names: refuse, audit, tell the producer.

:mod:`meshgov.catalog.confusables` decides; this gate carries a refusal out. A refused name
writes nothing centrally: one ``Name Refused`` event on the producer's ``meshgov`` bus, so its
owner learns why the object did not appear, and one ``catalog:name`` audit record (outcome
``REFUSED``, ``error_code`` the rule, the reason, ``told`` the event). The reconciler consults
the gate only for names it is about to create (no ledger row yet): published names keep their
place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from meshgov.audit import Auditor, AuditOutcome
from meshgov.aws.arns import Arns
from meshgov.catalog.confusables import NameRefusal, is_ascii, refusal
from meshgov.catalog.events_out import NAME_REFUSED, CatalogEventPublisher
from meshgov.catalog.naming import Producer
from meshgov.contracts.glue_events import NameRefusedDetail

Names = Callable[[], Iterable[str]]


def _none() -> Iterable[str]:
    return ()


class NameGate:
    def __init__(self, auditor: Auditor, publisher: CatalogEventPublisher, arns: Arns) -> None:
        self._auditor = auditor
        self._publisher = publisher
        self._arns = arns

    def refused(
        self,
        producer: Producer,
        source_database: str,
        central_database: str,
        correlation_id: str,
        *,
        table: str | None = None,
        namespace: Names = _none,
        newcomers: Iterable[str] = (),
    ) -> NameRefusal | None:
        """The refusal of a new central name (a database's, or ``table``'s), carried out; None if
        it may be published. ``namespace`` is only called for a name that is not pure ASCII
        (the only kind a collision can refuse), so the common case costs no read."""
        name = table if table is not None else central_database
        central_name = central_database if table is None else f"{central_database}.{table}"
        others = namespace() if not is_ascii(name) else ()
        found = refusal(name, others, newcomers)
        if found is None:
            return None
        account = producer.account_id
        source_arn = (
            self._arns.glue_table(account, source_database, table)
            if table is not None
            else self._arns.glue_database(account, source_database)
        )
        detail = NameRefusedDetail(
            producer_account=account,
            domain=producer.domain,
            source_database=source_database,
            table=table,
            central_name=central_name,
            rule=found.rule.value,
            reason=found.reason,
            confusable_with=found.confusable_with,
        ).model_dump(by_alias=True)
        # Told first: if the record then fails, the retry tells again (a notification the producer
        # may receive twice), never a record claiming a producer was told when it was not.
        self._publisher.tell(account, NAME_REFUSED, detail, [source_arn])
        self._auditor.record(
            "catalog:name",
            AuditOutcome.REFUSED,
            source_arn,
            correlation_id,
            found.reason,
            account=account,
            error_code=found.rule.value,
            central_name=central_name,
            confusable_with=found.confusable_with,
            told=NAME_REFUSED,
        )
        return found
