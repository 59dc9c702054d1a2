"""A producer's Glue Data Quality run, as a test or the demo starts one (issue 15, item 3).

The run checks what the table's *published* contract promises when it says something about
quality: the contract version central keeps in force for that producer table (the contract store,
:mod:`meshgov.contracts_odcs.store`) is translated into DQDL
(:func:`meshgov.contracts_odcs.quality_rules.quality_ruleset`) and that ruleset is created and
run; a table without a contract, or whose contract has no rule meshgov translates, runs the
ruleset it was given. Rules the translation left out are returned with their reasons.

Then the producer's own calls, as on AWS: ``CreateDataQualityRuleset`` with the table as
``TargetTable`` and ``StartDataQualityRulesetEvaluationRun`` as a role of the producer
(https://docs.aws.amazon.com/glue/latest/webapi/API_StartDataQualityRulesetEvaluationRun.html);
the emulated Glue Data Quality (:mod:`meshgov_local.emulator.glue_dataquality`) computes the
result on the table's Parquet data and puts the result event on the producer's default bus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from meshgov.contracts_odcs.quality_rules import QualityRuleset, Untranslated, quality_ruleset
from meshgov.contracts_odcs.store import ContractStore
from meshgov_local.emulator.iam_bootstrap import ADMIN_ROLE_NAME

if TYPE_CHECKING:
    from meshgov_local.mesh import LocalMesh


@dataclass(frozen=True)
class QualityRun:
    run_id: str
    ruleset_name: str
    ruleset: str
    contract: str | None  # "urn:... 1.0.0" when the ruleset is the contract's
    untranslated: tuple[Untranslated, ...] = ()


def contract_ruleset(
    mesh: LocalMesh, account: str, database: str, table: str
) -> tuple[str, QualityRuleset] | None:
    """The quality rules of the contract in force on the producer table (``database`` as the
    producer names it), translated; None when no contract is in force."""
    store = ContractStore(mesh.client(mesh.central, "dynamodb"), mesh.deployment.ledger_table_name)
    head = store.head(account, database.lower(), table.lower())
    if head is None:
        return None
    [document] = [
        v["document"]
        for v in store.versions(account, head.source_database, head.table)
        if v["version"] == head.version
    ]
    return f"{head.contract_id} {head.version}", quality_ruleset(document, head.table)


def run_quality_check(
    mesh: LocalMesh,
    *,
    database: str,
    table: str,
    ruleset_name: str,
    ruleset: str,
    account: str | None = None,
    role: str = ADMIN_ROLE_NAME,
) -> QualityRun:
    """Create and run a ruleset on the producer table: the contract's rules where it has
    them, else ``ruleset``. The run's result event is on the producer's bus (settle to deliver)."""
    account = account or mesh.producer
    found = contract_ruleset(mesh, account, database, table)
    contract: str | None = None
    untranslated: tuple[Untranslated, ...] = ()
    if found is not None:
        untranslated = found[1].untranslated
        if found[1].ruleset is not None:
            contract, ruleset = found[0], found[1].ruleset
    glue = mesh.client(account, "glue")
    target = {"DatabaseName": database, "TableName": table}
    glue.create_data_quality_ruleset(Name=ruleset_name, Ruleset=ruleset, TargetTable=target)
    run = glue.start_data_quality_ruleset_evaluation_run(
        DataSource={"GlueTable": target},
        Role=f"arn:aws:iam::{account}:role/{role}",
        RulesetNames=[ruleset_name],
    )
    return QualityRun(str(run["RunId"]), ruleset_name, ruleset, contract, untranslated)
