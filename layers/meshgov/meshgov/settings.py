"""Typed settings, read once at a handler's entry from the environment mapping it is given.

Domain code never reads ``os.environ``: handlers pass the mapping in, tests pass a dict.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from meshgov.access.policy import UnansweredReview
from meshgov.aws.arns import Arns, partition_for_region, regional_role_name
from meshgov.contracts.registry_events import ACCOUNT_PATTERN
from meshgov.errors import SettingsInvalidError

ACCOUNT_ID = re.compile(ACCOUNT_PATTERN)


# What several functions read alike from their environment, by settings field: one home for
# the variable each comes from and how it is parsed. Lambda sets AWS_REGION in every function
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime);
# AWS_DEFAULT_REGION is the SDKs' fallback, as tools and tests set it.
_SHARED: dict[str, Callable[[Mapping[str, str]], Any]] = {
    "region": lambda env: env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "",
    "central_account_id": lambda env: env.get("CENTRAL_ACCOUNT_ID", ""),
    "audit_table_name": lambda env: env.get("AUDIT_TABLE_NAME", ""),
    "registry_table_name": lambda env: env.get("REGISTRY_TABLE_NAME", ""),
    "dead_letter_queue_url": lambda env: env.get("DEAD_LETTER_QUEUE_URL") or None,
    "member_bus_name": lambda env: env.get("MEMBER_BUS_NAME") or "meshgov",
}


def shared_settings(env: Mapping[str, str], *fields: str) -> dict[str, Any]:
    """The named shared fields (:data:`_SHARED`) read from ``env``, as keyword arguments of a
    settings class."""
    return {name: _SHARED[name](env) for name in fields}


class RegionalSettings(BaseModel):
    """A function's Region and the partition it belongs to (``aws``, ``aws-cn``, ``aws-us-gov``).

    Lambda gives a function its Region only; the partition every ARN needs is resolved from it
    here, once, at the handler's entry (meshgov.aws.arns), and handed to domain code as
    :attr:`arns`. A Region no partition claims fails here, never as a wrong ARN later.
    """

    model_config = ConfigDict(frozen=True)

    region: str
    partition: str = ""

    @model_validator(mode="before")
    @classmethod
    def _partition_of_region(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("region") and not data.get("partition"):
            return {**data, "partition": partition_for_region(str(data["region"]))}
        return data

    @property
    def arns(self) -> Arns:
        return Arns(self.partition, self.region)


class CatalogSettings(RegionalSettings):
    """Settings of the central catalog functions (sync and sweep)."""

    central_account_id: str
    audit_table_name: str
    ledger_table_name: str
    central_bus_name: str
    # The registry of member accounts (template.yaml RegistryTable; meshgov.registry): the
    # producers central serves are read from it at run time, never from the environment.
    registry_table_name: str
    # The base name of the members' reader roles (template parameter ReaderRoleName); each
    # member names its role per Region (:meth:`reader_role_arn`).
    reader_role_name: str = "meshgov-catalog-reader"
    dead_letter_queue_url: str | None = None
    # The members' own bus, where a producer is told of its refused names (Name Refused).
    member_bus_name: str = "meshgov"
    # The role Lake Formation assumes for the producers' registered data locations
    # (template.yaml DataLocationRole; meshgov.catalog.locations). Empty: none registered.
    data_location_role_arn: str = ""
    # The history of data quality results (template.yaml QualityResultsTable; meshgov.quality).
    # Empty: quality results are not recorded (the sweep never needs it).
    quality_table_name: str = ""
    # The lineage graph and the access requests (template.yaml LineageTable,
    # AccessRequestsTable), read to name what a breaking change or a contract breach reaches
    # downstream (meshgov.lineage.reach). Either empty: the events say downstream unknown.
    lineage_table_name: str = ""
    requests_table_name: str = ""
    # The fan-out sweep (template.yaml SweepQueue; meshgov.catalog.fanout). Empty: the sweep
    # runs whole in one invocation.
    sweep_queue_url: str = ""
    sweep_lease_minutes: int = Field(default=60, ge=1)
    sweep_page_tables: int = Field(default=50, ge=1)

    def reader_role_arn(self, account_id: str) -> str:
        """The reader role central assumes in ``account_id``: the member's role of central's own
        Region, ``<ReaderRoleName>-<Region>`` (IAM role names are per account, not per Region)."""
        return self.arns.iam_role(
            account_id, regional_role_name(self.reader_role_name, self.region)
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        try:
            return cls(
                **shared_settings(env, "region", "central_account_id", "audit_table_name"),
                ledger_table_name=env.get("LEDGER_TABLE_NAME", ""),
                central_bus_name=env.get("CENTRAL_BUS_NAME", ""),
                **shared_settings(env, "registry_table_name"),
                reader_role_name=env.get("READER_ROLE_NAME") or "meshgov-catalog-reader",
                **shared_settings(env, "dead_letter_queue_url", "member_bus_name"),
                data_location_role_arn=env.get("DATA_LOCATION_ROLE_ARN", ""),
                quality_table_name=env.get("QUALITY_TABLE_NAME", ""),
                lineage_table_name=env.get("LINEAGE_TABLE_NAME", ""),
                requests_table_name=env.get("REQUESTS_TABLE_NAME", ""),
                sweep_queue_url=env.get("SWEEP_QUEUE_URL", ""),
                sweep_lease_minutes=int(env.get("SWEEP_LEASE_MINUTES") or 60),
                sweep_page_tables=int(env.get("SWEEP_PAGE_TABLES") or 50),
            )._checked()
        except (ValidationError, ValueError) as exc:
            raise SettingsInvalidError(str(exc)) from exc

    def _checked(self) -> Self:
        _missing(
            self,
            (
                "region",
                "central_account_id",
                "audit_table_name",
                "ledger_table_name",
                "central_bus_name",
                "registry_table_name",
            ),
        )
        try:
            regional_role_name(self.reader_role_name, self.region)
        except ValueError as exc:
            raise SettingsInvalidError(f"READER_ROLE_NAME: {exc}") from exc
        role = self.data_location_role_arn
        own = f"arn:{self.partition}:iam::{self.central_account_id}:role/"
        if role and not (role.startswith(own) and len(role) > len(own)):
            # RegisterResource takes a role of the registering account (register-cross-account).
            raise SettingsInvalidError(
                f"DATA_LOCATION_ROLE_ARN {role!r} is not a role of the central account "
                f"{self.central_account_id}"
            )
        return self


def _accounts(raw: str, name: str) -> tuple[str, ...]:
    accounts = tuple(a.strip() for a in raw.split(",") if a.strip())
    bad = [a for a in accounts if not ACCOUNT_ID.match(a)]
    if bad:
        raise SettingsInvalidError(f"{name} holds invalid account ids: {bad}")
    return accounts


def _missing(settings: BaseModel, names: tuple[str, ...]) -> None:
    missing = [name for name in names if not getattr(settings, name)]
    if missing:
        raise SettingsInvalidError(f"missing settings: {', '.join(missing)}")


def _central_account_valid(account: str) -> None:
    """A member function or the usage function reaches central by this id: a typo fails here."""
    if not ACCOUNT_ID.match(account):
        raise SettingsInvalidError("CENTRAL_ACCOUNT_ID must be a 12-digit account id")


def _labels(value: str | None) -> frozenset[str]:
    """A comma-separated list of classifications, as the approval policy compares them."""
    return frozenset(c.strip().lower() for c in (value or "").split(",") if c.strip())


class AccessSettings(RegionalSettings):
    """Settings of the central access functions (requests and decisions; the sweep)."""

    central_account_id: str
    audit_table_name: str
    requests_table_name: str
    registry_table_name: str
    member_bus_name: str = "meshgov"
    max_duration_days: int = 90
    auto_approve_classifications: frozenset[str] = frozenset()
    filter_required_classifications: frozenset[str] = frozenset()
    expiry_warning_hours: int = 24
    dead_letter_queue_url: str | None = None
    # Reviews and unused grants (issue 14; the sweep's template parameters ReviewEveryDays,
    # ReviewDeadlineDays, UnansweredReviewAction, RevokeUnusedDays, UnusedWarningDays): 0 = off.
    review_every_days: int = Field(default=0, ge=0)
    review_deadline_days: int = Field(default=7, ge=1)
    unanswered_review_action: UnansweredReview = UnansweredReview.REVOKE
    revoke_unused_days: int = Field(default=0, ge=0)
    unused_warning_days: int = Field(default=7, ge=1)
    # The central usage table (meshgov.usage.store), read by the sweep for unused grants and
    # the last use a review shows; empty: no usage is read.
    usage_table_name: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        try:
            settings = cls(
                **shared_settings(env, "region", "central_account_id", "audit_table_name"),
                requests_table_name=env.get("REQUESTS_TABLE_NAME", ""),
                review_every_days=int(env.get("REVIEW_EVERY_DAYS") or 0),
                review_deadline_days=int(env.get("REVIEW_DEADLINE_DAYS") or 7),
                unanswered_review_action=UnansweredReview(
                    (env.get("UNANSWERED_REVIEW_ACTION") or "revoke").strip().lower()
                ),
                revoke_unused_days=int(env.get("REVOKE_UNUSED_DAYS") or 0),
                unused_warning_days=int(env.get("UNUSED_WARNING_DAYS") or 7),
                usage_table_name=env.get("USAGE_TABLE_NAME", ""),
                **shared_settings(env, "registry_table_name", "member_bus_name"),
                max_duration_days=int(env.get("MAX_DURATION_DAYS") or 90),
                auto_approve_classifications=_labels(env.get("AUTO_APPROVE_CLASSIFICATIONS")),
                filter_required_classifications=_labels(env.get("FILTER_REQUIRED_CLASSIFICATIONS")),
                expiry_warning_hours=int(env.get("EXPIRY_WARNING_HOURS") or 24),
                **shared_settings(env, "dead_letter_queue_url"),
            )
        except (ValidationError, ValueError) as exc:
            raise SettingsInvalidError(str(exc)) from exc
        _missing(
            settings,
            (
                "region",
                "central_account_id",
                "audit_table_name",
                "requests_table_name",
                "registry_table_name",
            ),
        )
        if settings.revoke_unused_days and not settings.usage_table_name:
            # Without usage every grant looks unused: refuse to start rather than revoke them.
            raise SettingsInvalidError("REVOKE_UNUSED_DAYS needs USAGE_TABLE_NAME (usage table)")
        return settings


class MemberSettings(RegionalSettings):
    """Settings of a member account's access function (RAM acceptor and resource-link maker)."""

    account_id: str
    central_account_id: str
    # Senders whose RAM invitations are accepted: the central account, and only who else the
    # platform team adds. Everything else is rejected and audited.
    trusted_accounts: tuple[str, ...]
    central_bus_name: str = "meshgov"
    dead_letter_queue_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        try:
            shared = shared_settings(env, "region", "central_account_id", "dead_letter_queue_url")
            central = shared["central_account_id"]
            extra = _accounts(env.get("TRUSTED_ACCOUNTS", ""), "TRUSTED_ACCOUNTS")
            settings = cls(
                **shared,
                account_id=env.get("ACCOUNT_ID", ""),
                trusted_accounts=tuple(dict.fromkeys((*([central] if central else []), *extra))),
                central_bus_name=env.get("CENTRAL_BUS_NAME") or "meshgov",
            )
        except ValidationError as exc:
            raise SettingsInvalidError(str(exc)) from exc
        _missing(settings, ("region", "account_id", "central_account_id"))
        _central_account_valid(settings.central_account_id)
        return settings


class AuditDigestSettings(RegionalSettings):
    """Settings of the audit digest function (signed digests of the audit chain)."""

    audit_table_name: str
    digest_bucket_name: str
    # The KMS asymmetric signing key (id, ARN or alias) that signs every digest.
    digest_key_id: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        try:
            settings = cls(
                **shared_settings(env, "region", "audit_table_name"),
                digest_bucket_name=env.get("AUDIT_DIGEST_BUCKET", ""),
                digest_key_id=env.get("AUDIT_DIGEST_KEY_ID", ""),
            )
        except ValidationError as exc:
            raise SettingsInvalidError(str(exc)) from exc
        _missing(settings, ("region", "audit_table_name", "digest_bucket_name", "digest_key_id"))
        return settings


class UsageSettings(RegionalSettings):
    """Settings of the usage function (data accesses counted per table, principal and day)."""

    central_account_id: str
    audit_table_name: str
    usage_table_name: str
    registry_table_name: str
    # Usage items expire this many days after their day; older events are refused (UsageTooOld).
    retention_days: int = 400

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        try:
            settings = cls(
                **shared_settings(env, "region", "central_account_id", "audit_table_name"),
                usage_table_name=env.get("USAGE_TABLE_NAME", ""),
                **shared_settings(env, "registry_table_name"),
                retention_days=int(env.get("USAGE_RETENTION_DAYS") or 400),
            )
        except (ValidationError, ValueError) as exc:
            raise SettingsInvalidError(str(exc)) from exc
        _missing(
            settings,
            (
                "region",
                "central_account_id",
                "audit_table_name",
                "usage_table_name",
                "registry_table_name",
            ),
        )
        _central_account_valid(settings.central_account_id)
        if settings.retention_days < 1:
            raise SettingsInvalidError("USAGE_RETENTION_DAYS must be at least 1")
        return settings


class LineageSettings(RegionalSettings):
    """Settings of the lineage function (OpenLineage run events kept as a graph)."""

    audit_table_name: str
    lineage_table_name: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        try:
            settings = cls(
                **shared_settings(env, "region", "audit_table_name"),
                lineage_table_name=env.get("LINEAGE_TABLE_NAME", ""),
            )
        except ValidationError as exc:
            raise SettingsInvalidError(str(exc)) from exc
        _missing(settings, ("region", "audit_table_name", "lineage_table_name"))
        return settings
