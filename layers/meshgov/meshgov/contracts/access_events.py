"""Access contracts (source ``meshgov.access``): what consumers and producers send, what meshgov
emits. Issue 4; see README "Event contracts".

Consumers name resources as the central catalog shows them (``<domain>_<database>``), either by
name (database, optional tables, optional columns of one table) or by an LF-Tag expression.
Only ``SELECT`` and ``DESCRIBE`` can be requested: Lake Formation cannot grant ``DROP`` across
accounts, and nothing a consumer needs requires more.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from meshgov.aws.arns import PARTITION
from meshgov.contracts.downstream import DownstreamNode
from meshgov.contracts.names import GlueName

ACCESS_SOURCE = "meshgov.access"
ACCESS_REQUESTED = "Access Requested"
ACCESS_DECIDED = "Access Decided"
ACCESS_GRANTED = "Access Granted"
ACCESS_DENIED = "Access Denied"
ACCESS_REVOKED = "Access Revoked"
# A member's refusal code when Lake Formation refused its grant because the request's principal
# does not exist in its account: central fails the request on it.
PRINCIPAL_NOT_FOUND = "PrincipalNotFound"
ACCESS_EXPIRING = "Access Expiring"
# Sent by central to the owning producer's bus: a request waits for its decision.
ACCESS_APPROVAL_REQUESTED = "Access Approval Requested"
# Sent by a consumer (or the owning producer) to end a grant before it expires.
ACCESS_REVOKE_REQUESTED = "Access Revoke Requested"
# Sent by a member's access function: what it did (links made, invitations answered), for the
# central audit trail; ``requestId`` set when links for that request are usable.
MEMBER_ACTIONS = "Member Actions Recorded"
# Sent by central to the consumers of a table whose schema changed incompatibly.
SHARED_SCHEMA_CHANGED = "Shared Table Schema Changed"
# Access reviews (issue 14): central asks the owning producer to review a live grant; the
# producer answers (keep or revoke); an unanswered review kept by the policy is escalated on
# central's own bus; a grant nobody used is announced to the consumer before it is revoked.
ACCESS_REVIEW_REQUESTED = "Access Review Requested"
ACCESS_REVIEWED = "Access Reviewed"
ACCESS_REVIEW_ESCALATED = "Access Review Escalated"
ACCESS_UNUSED = "Access Unused"

# A role of any partition (aws, aws-cn, aws-us-gov, ...): the consumer's account is in the mesh's
# partition, which the access service checks (meshgov.aws.arns).
ROLE_ARN = rf"^arn:{PARTITION}:iam::(\d{{12}}):role/[A-Za-z0-9_+=,.@/-]{{1,512}}$"


class Permission(StrEnum):
    SELECT = "SELECT"
    DESCRIBE = "DESCRIBE"


class Decision(StrEnum):
    APPROVE = "APPROVE"
    DENY = "DENY"


class ReviewDecision(StrEnum):
    KEEP = "KEEP"
    REVOKE = "REVOKE"


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


# A bound on a row filter's text in an event (Lake Formation's own limit on a data cells filter's
# expression is checked, with its own message, by meshgov.access.row_filters).
ROW_FILTER_TEXT_MAX = 20_000


class TableFilter(_Contract):
    """The cells of one table a request asks for (or a producer approves): a column set — the
    ``columns`` named, or every column but ``excludedColumns`` — and a ``rowFilter`` in the
    PartiQL subset of a Lake Formation data cells filter. Central makes it one data cells filter
    (meshgov.access.filters)."""

    table: GlueName
    columns: list[GlueName] = Field(default_factory=list, max_length=1000)
    excluded_columns: list[GlueName] = Field(
        default_factory=list, alias="excludedColumns", max_length=1000
    )
    row_filter: str | None = Field(
        default=None, alias="rowFilter", min_length=1, max_length=ROW_FILTER_TEXT_MAX
    )

    @model_validator(mode="after")
    def _one_column_rule(self) -> Self:
        if self.columns and self.excluded_columns:
            raise ValueError("name either columns or excludedColumns, not both")
        if not (self.columns or self.excluded_columns or self.row_filter):
            raise ValueError("a filter needs columns, excludedColumns or a rowFilter")
        for names in (self.columns, self.excluded_columns):
            if len({n.lower() for n in names}) != len(names):
                raise ValueError("columns must not repeat")
        return self


class NamedResource(_Contract):
    database: GlueName
    tables: list[GlueName] = Field(default_factory=list, max_length=100)
    columns: list[GlueName] = Field(default_factory=list, max_length=1000)
    # Per table: the columns and rows asked for (each table named in ``tables``).
    filters: list[TableFilter] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _columns_need_one_table(self) -> Self:
        if self.columns and len(self.tables) != 1:
            raise ValueError("columns can only be requested on exactly one table")
        if len(set(self.tables)) != len(self.tables) or len(set(self.columns)) != len(self.columns):
            raise ValueError("tables and columns must not repeat")
        if self.filters:
            if self.columns:
                raise ValueError("name the columns of a filtered table in its filter")
            named = {t.lower() for t in self.tables}
            filtered = [f.table.lower() for f in self.filters]
            if len(set(filtered)) != len(filtered):
                raise ValueError("one filter per table")
            stray = sorted(set(filtered) - named)
            if stray:
                raise ValueError(f"filters name tables the request does not: {', '.join(stray)}")
        return self


class TagCondition(_Contract):
    key: str = Field(min_length=1, max_length=128)
    values: list[str] = Field(min_length=1, max_length=50)


class TagExpression(_Contract):
    """An ``LFTagPolicy`` expression: every condition must hold; values within one are OR'ed."""

    conditions: list[TagCondition] = Field(min_length=1, max_length=50)


class AccessRequestedDetail(_Contract):
    client_token: str = Field(alias="clientToken", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    consumer_account: str = Field(alias="consumerAccount", pattern=r"^\d{12}$")
    principal: str = Field(pattern=ROLE_ARN)
    resource: NamedResource | None = None
    tag_expression: TagExpression | None = Field(default=None, alias="tagExpression")
    permissions: list[Permission] = Field(min_length=1, max_length=2)
    justification: str = Field(min_length=10, max_length=2000)
    duration_days: int = Field(alias="durationDays", ge=1, le=3650)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.resource is None) == (self.tag_expression is None):
            raise ValueError("name exactly one of resource or tagExpression")
        if len(set(self.permissions)) != len(self.permissions):
            raise ValueError("permissions must not repeat")
        principal_account = self.principal.split(":")[4]
        if principal_account != self.consumer_account:
            raise ValueError(
                f"principal {self.principal} is not in the consumer account {self.consumer_account}"
            )
        return self


class AccessDecidedDetail(_Contract):
    request_id: str = Field(alias="requestId", min_length=1, max_length=128)
    decision: Decision
    reason: str = Field(min_length=1, max_length=2000)
    # An approval may narrow what was asked: per table, fewer columns or a stricter row filter
    # (a table not named here is approved as requested). Anything wider is refused.
    filters: list[TableFilter] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _filters_only_narrow_an_approval(self) -> Self:
        if self.filters and self.decision is not Decision.APPROVE:
            raise ValueError("only an approval can carry filters")
        if len({f.table.lower() for f in self.filters}) != len(self.filters):
            raise ValueError("one filter per table")
        return self


class LinkGrant(_Contract):
    """One Lake Formation grant the member makes to a local principal (resource as the API)."""

    principal: str = Field(pattern=ROLE_ARN)
    resource: dict[str, Any]
    permissions: list[Permission] = Field(min_length=1, max_length=2)


class AccessGrantedDetail(_Contract):
    """What the member must make usable: the resource links, and the grants to its principal."""

    request_id: str = Field(alias="requestId")
    consumer_account: str = Field(alias="consumerAccount", pattern=r"^\d{12}$")
    # None for a producer's ownership of its own central databases: links only, the producer's
    # Lake Formation admins grant their engineers from there.
    principal: str | None = Field(default=None, pattern=ROLE_ARN)
    central_account: str = Field(alias="centralAccount", pattern=r"^\d{12}$")
    resource: NamedResource | None = None
    tag_expression: TagExpression | None = Field(default=None, alias="tagExpression")
    permissions: list[Permission]
    expires_at: datetime | None = Field(default=None, alias="expiresAt")
    # Central databases to link (the link has the central database's name).
    links: list[GlueName] = Field(default_factory=list, max_length=100)
    grants: list[LinkGrant] = Field(default_factory=list, max_length=500)
    # The data cells filters central made for this request (CreateDataCellsFilter TableData):
    # the columns and rows each filtered table's grant lets through.
    data_cells_filters: list[dict[str, Any]] = Field(
        default_factory=list, alias="dataCellsFilters", max_length=100
    )


class AccessDeniedDetail(_Contract):
    """A request refused by validation (``requestId`` ``refused-<event id>``, with the client
    token the sender used), by the approval policy, or by the owning producer."""

    request_id: str = Field(alias="requestId")
    reason: str
    decided_by: str = Field(alias="decidedBy")
    client_token: str | None = Field(default=None, alias="clientToken")


class AccessRevokedDetail(_Contract):
    """What the member must undo: only what no other live request still needs."""

    request_id: str = Field(alias="requestId")
    reason: str  # "expired", "revoked on request", "unpublished"
    consumer_account: str = Field(alias="consumerAccount")
    central_account: str = Field(alias="centralAccount", pattern=r"^\d{12}$")
    remove_links: list[GlueName] = Field(default_factory=list, alias="removeLinks")
    revoke: list[LinkGrant] = Field(default_factory=list, max_length=500)


class AccessApprovalRequestedDetail(_Contract):
    request_id: str = Field(alias="requestId")
    consumer_account: str = Field(alias="consumerAccount")
    principal: str
    resource: NamedResource | None = None
    tag_expression: TagExpression | None = Field(default=None, alias="tagExpression")
    tables: list[str] = Field(default_factory=list)  # "<database>.<table>" the request covers
    permissions: list[Permission]
    justification: str
    duration_days: int = Field(alias="durationDays")


class AccessRevokeRequestedDetail(_Contract):
    request_id: str = Field(alias="requestId", min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=2000)


class MemberAction(_Contract):
    action: str = Field(min_length=1, max_length=128)  # e.g. "ram:AcceptResourceShareInvitation"
    outcome: str = Field(pattern=r"^(SUCCEEDED|SKIPPED|REFUSED|FAILED)$")
    target: str = Field(max_length=2048)
    reason: str = Field(default="", max_length=2000)
    code: str | None = Field(default=None, pattern=r"^[A-Za-z]{1,64}$")  # why it was refused


class MemberActionsDetail(_Contract):
    request_id: str | None = Field(default=None, alias="requestId")
    correlation_id: str = Field(alias="correlationId", min_length=1, max_length=256)
    linked: bool = False  # the request's links and grants are in place
    # The request's links exist but its grants could not be made (Lake Formation refused them: a
    # share already withdrawn). Central answers a withdrawn request with Access Revoked, so the
    # member removes what it made; it never activates anything.
    links_made: bool = Field(default=False, alias="linksMade")
    actions: list[MemberAction] = Field(default_factory=list, max_length=200)


class SharedSchemaChangedDetail(_Contract):
    """A consumer's copy of a ``Breaking Schema Change``, with what it reaches downstream
    (:mod:`meshgov.contracts.downstream`)."""

    request_id: str = Field(alias="requestId")
    database: str
    table: str
    removed_columns: list[str] = Field(default_factory=list, alias="removedColumns")
    changed_columns: list[str] = Field(default_factory=list, alias="changedColumns")
    downstream: list[DownstreamNode] | None = None
    downstream_truncated: bool = Field(default=False, alias="downstreamTruncated")


class AccessExpiringDetail(_Contract):
    request_id: str = Field(alias="requestId")
    expires_at: datetime = Field(alias="expiresAt")
    consumer_account: str = Field(alias="consumerAccount")


class AccessReviewRequestedDetail(_Contract):
    """Central to the owning producer: review this live grant by ``deadline`` (answer with
    ``Access Reviewed``); what the grant covers and when its principal last used it."""

    request_id: str = Field(alias="requestId")
    consumer_account: str = Field(alias="consumerAccount")
    principal: str
    tables: list[str] = Field(default_factory=list)  # "<database>.<table>" ("<database>.*")
    permissions: list[Permission]
    # The data cells filters granted (meshgov.access.filters.CellSpec.as_dict), per table.
    filters: list[dict[str, Any]] = Field(default_factory=list)
    justification: str
    granted_at: datetime | None = Field(default=None, alias="grantedAt")
    expires_at: datetime | None = Field(default=None, alias="expiresAt")
    # The principal's latest use of any covered table since the grant or the previous review;
    # null when there was none (or no usage is recorded).
    last_used: datetime | None = Field(alias="lastUsed")
    deadline: datetime


class AccessReviewedDetail(_Contract):
    """The owning producer's answer to ``Access Review Requested``."""

    request_id: str = Field(alias="requestId", min_length=1, max_length=128)
    decision: ReviewDecision
    reason: str = Field(min_length=1, max_length=2000)


class AccessReviewEscalatedDetail(_Contract):
    """On central's bus, for the platform team: a review went unanswered past its deadline and
    the policy (``UnansweredReviewAction=keep``) kept the grant."""

    request_id: str = Field(alias="requestId")
    owner_account: str = Field(alias="ownerAccount")
    consumer_account: str = Field(alias="consumerAccount")
    principal: str
    tables: list[str] = Field(default_factory=list)
    review_requested_at: datetime = Field(alias="reviewRequestedAt")
    deadline: datetime
    reason: str


class AccessUnusedDetail(_Contract):
    """Central to the consumer, once: nobody used this grant since ``unusedSince``; it is
    revoked at ``revokeAt`` unless it is used before (like ``Access Expiring``)."""

    request_id: str = Field(alias="requestId")
    consumer_account: str = Field(alias="consumerAccount")
    principal: str
    tables: list[str] = Field(default_factory=list)
    unused_since: datetime = Field(alias="unusedSince")
    revoke_at: datetime = Field(alias="revokeAt")
