"""Events about data contracts (ODCS; :mod:`meshgov.contracts_odcs`).

- in, from a producer (forwarded by its member stack): ``meshgov.catalog`` / ``Contract
  Published`` — the S3 location of a new contract version for one of its published tables;
- out, on the central bus and the producer's ``meshgov`` bus: ``meshgov.catalog`` / ``Contract
  Breached``; the access function tells each consumer account holding grants on the table
  (``meshgov.access`` / ``Contract Breached``, with its request ids);
- out, on the producer's bus: ``meshgov.catalog`` / ``Contract Refused`` (a contract not
  accepted, why, and that nothing was stored);
- out, like ``Contract Breached`` (central bus and producer's bus, then one per consumer account
  holding grants, with its request ids): ``meshgov.catalog`` / ``Freshness SLA Breached`` — the
  catalog sweep found the newest data of a contracted table older than its SLA allows
  (:mod:`meshgov.contracts_odcs.freshness`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from meshgov.contracts.downstream import DownstreamNode
from meshgov.contracts.names import GlueName

CONTRACT_PUBLISHED = "Contract Published"
CONTRACT_BREACHED = "Contract Breached"
CONTRACT_REFUSED = "Contract Refused"
FRESHNESS_SLA_BREACHED = "Freshness SLA Breached"


class ContractPublishedDetail(BaseModel):
    """A producer publishes a contract version for its table ``database.table``, named as the
    central catalog shows it (``sales_orders``), whose ODCS document is at ``location``
    (``s3://bucket/key`` in the producer's account, under its contracts prefix)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    database: GlueName
    table: GlueName
    location: str = Field(min_length=8, max_length=1024, pattern=r"^s3://")


class ContractBreach(BaseModel):
    """One broken promise (``kind``: ``column-removed``, ``column-retyped``,
    ``required-made-nullable``, ``partition-keys-changed``)."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    column: str
    expected: str
    actual: str


class ContractBreachedDetail(BaseModel):
    """A published table no longer keeps its contract; ``requestIds`` only in the consumers'
    copies (their requests holding grants on the table); ``downstream`` what the breach reaches
    (:mod:`meshgov.contracts.downstream`; ``downstreamTruncated``: more than it lists)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    central_database: str = Field(alias="centralDatabase")
    table: str
    producer_account: str = Field(alias="producerAccount", pattern=r"^\d{12}$")
    domain: str
    contract_id: str = Field(alias="contractId")
    contract_version: str = Field(alias="contractVersion")
    breaches: list[ContractBreach]
    request_ids: list[str] = Field(default_factory=list, alias="requestIds")
    downstream: list[DownstreamNode] | None = None
    downstream_truncated: bool = Field(default=False, alias="downstreamTruncated")


class ContractRefusedDetail(BaseModel):
    """A contract meshgov did not accept (nothing stored; the version in force, if any, stays)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    producer_account: str = Field(alias="producerAccount", pattern=r"^\d{12}$")
    central_database: str = Field(alias="centralDatabase")
    table: str
    location: str
    rule: str  # the audit error_code: ContractInvalid, ContractColumnUnknown, ...
    reason: str


class FreshnessSlaBreachedDetail(BaseModel):
    """A contracted table's newest data (``newestAt``: its newest central partition's creation
    time, else the table's) is older than its contract's SLA allows (``limitSeconds``: the
    ODCS ``frequency`` plus ``latency``); ``requestIds`` only in the consumers' copies."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    central_database: str = Field(alias="centralDatabase")
    table: str
    producer_account: str = Field(alias="producerAccount", pattern=r"^\d{12}$")
    domain: str
    contract_id: str = Field(alias="contractId")
    contract_version: str = Field(alias="contractVersion")
    sla: str  # as the contract states it: "frequency 1 d, latency 4 h"
    limit_seconds: int = Field(alias="limitSeconds", ge=1)
    newest_at: str | None = Field(alias="newestAt")  # None: the table shows no data time
    detected_at: str = Field(alias="detectedAt")
    late_seconds: int = Field(alias="lateSeconds", ge=0)
    request_ids: list[str] = Field(default_factory=list, alias="requestIds")
