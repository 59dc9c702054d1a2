"""Record a producer's quality result centrally: history first, then the central table.

Runs in the catalog sync function (the quality event rides the catalog events queue): only the
central catalog's one writer identity, ``CatalogWriterRole``, may alter central tables (Lake
Formation gives administrators no implicit ALTER on what another created, ADR 0009).

- A result for a table with no central copy from this producer is refused
  (``QualityNotPublished``): nothing is stored. The central table is the projection of what
  the producer publishes, and its ``meshgov:source_arn`` names the source table.
- The history keeps every result once (:mod:`.store`); a redelivered result is kept once.
- The central table carries the *latest* result (:mod:`.parameters`): an older result arriving
  late (events may be reordered) goes to the history only. The update is metadata only
  (``SkipArchive``: no new schema version) and leaves every other field as central holds it.
"""

from __future__ import annotations

from typing import Any

from meshgov.audit import Auditor, AuditOutcome
from meshgov.aws.arns import Arns
from meshgov.catalog.central import CentralCatalog
from meshgov.catalog.naming import central_database_name
from meshgov.catalog.projection import SOURCE_ACCOUNT, SOURCE_ARN, table_input_of
from meshgov.errors import NameInvalidError, QualityNotPublishedError
from meshgov.quality.parameters import quality_of, summary_of
from meshgov.quality.results import QualityResult
from meshgov.quality.store import QualityHistory

RECORDED = "quality:recorded"


class QualityRecorder:
    def __init__(
        self, central: CentralCatalog, history: QualityHistory, auditor: Auditor, arns: Arns
    ) -> None:
        self._central = central
        self._history = history
        self._auditor = auditor
        self._arns = arns

    def record(self, result: QualityResult) -> bool:
        """Keep ``result``; True when the central table now shows it."""
        producer, summary = result.producer, result.summary
        source_arn = self._arns.glue_table(producer.account_id, result.database, result.table_name)
        try:
            database = central_database_name(producer, result.database)
        except NameInvalidError as exc:
            raise QualityNotPublishedError(f"{source_arn} is not published: {exc}") from exc
        table = self._central.get_table(database, result.table_name)
        params: dict[str, Any] = dict((table or {}).get("Parameters") or {})
        if (
            table is None
            or params.get(SOURCE_ACCOUNT) != producer.account_id
            or params.get(SOURCE_ARN) != source_arn
        ):
            raise QualityNotPublishedError(
                f"{source_arn} is not published: central has no table {database}."
                f"{result.table_name} from it"
            )
        target = f"table/{database}/{result.table_name}"
        added = self._history.add(
            f"{database}.{result.table_name}",
            summary,
            producer_account=producer.account_id,
            domain=producer.domain,
            source_arn=source_arn,
            event_id=result.event_id,
        )
        current = summary_of(params)
        if current is not None and (
            current.result_id == summary.result_id or current.evaluated_at > summary.evaluated_at
        ):
            self._auditor.record(
                RECORDED,
                AuditOutcome.SKIPPED if not added else AuditOutcome.SUCCEEDED,
                target,
                result.event_id,
                "already the table's latest result"
                if current.result_id == summary.result_id
                else f"kept in the history; the table shows a later result ({current.result_id})",
                history_added=added,
                **summary.as_dict(),
            )
            return False
        table_input = table_input_of(table or {})
        table_params = {
            k: v
            for k, v in (table_input.get("Parameters") or {}).items()
            if k not in quality_of(params)
        }
        table_params.update(summary.as_parameters())
        table_input["Parameters"] = table_params
        self._central.update_table(database, table_input, skip_archive=True)
        self._auditor.record(
            RECORDED,
            AuditOutcome.SUCCEEDED,
            target,
            result.event_id,
            f"score {summary.score:.2f}: {summary.rules_passed} rule(s) passed, "
            f"{summary.rules_failed} failed",
            history_added=added,
            **summary.as_dict(),
        )
        return True
