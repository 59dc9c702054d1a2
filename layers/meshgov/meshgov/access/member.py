"""A member account's access function: accept trusted RAM invitations, make and remove links.

Runs in each member (producer or consumer) account on the member's own ``aws.ram`` events, on
meshgov's ``Access Granted``/``Access Revoked`` events that central puts on the member's
``meshgov`` bus, and on a schedule (RAM events are best effort, and an invitation expires about
12 hours after it was sent:
https://docs.aws.amazon.com/ram/latest/userguide/working-with-shared-invitations.html).

Invitations (:func:`invitation_verdict`): the member judges only Lake Formation shares, those
whose resources include Data Catalog resources (RAM types ``glue:Catalog``, ``glue:Database``,
``glue:Table``: what Lake Formation creates RAM shares of,
https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLakeFormationCrossAccountManager.html).
Any other share (a subnet, a transit gateway) is left pending for the account's own
administrators and reported ``SKIPPED``. A Data Catalog share from an untrusted sender is
rejected, even mixed with other resources. From the central account, a share is accepted only
while an ``Access Granted`` event is handled, and only when every resource in it (read with
``ListPendingInvitationResources`` before answering) lies in a central database that this event
or an earlier one made this account link (the links are the member's record of what central
told it). Otherwise it is left pending, not rejected: rejecting would throw away a share that a
later grant explains, and RAM re-invites only when central grants again. Access events are
obeyed only when EventBridge says they came from the central account, and only for this
account's own principals, its own links and the central catalog. What it did is reported to the
central audit trail as one ``Member Actions Recorded`` event per invocation.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from meshgov.access.envelope import Envelope
from meshgov.access.grants import grant_batches
from meshgov.aws.session import error_code
from meshgov.catalog.glue_reads import database_or_none
from meshgov.contracts.access_events import (
    ACCESS_GRANTED,
    ACCESS_REVOKED,
    ACCESS_SOURCE,
    MEMBER_ACTIONS,
    PRINCIPAL_NOT_FOUND,
    AccessGrantedDetail,
    AccessRevokedDetail,
    LinkGrant,
)
from meshgov.errors import EventMalformedError, MeshgovError, validation_reason

CentralDetail = TypeVar("CentralDetail", AccessGrantedDetail, AccessRevokedDetail)
RAM_SOURCE = "aws.ram"
SCHEDULE_SOURCE = "aws.events"
# The RAM resource types of Data Catalog resources: what Lake Formation shares through RAM (the
# AWSLakeFormationCrossAccountManager policy creates shares of exactly these types).
CATALOG_RESOURCE_TYPES = frozenset({"glue:Catalog", "glue:Database", "glue:Table"})
ACCEPT, REJECT, LEAVE = "accept", "reject", "leave"


class MemberActionError(MeshgovError):
    """A RAM, Glue or Lake Formation call in the member account failed (the event is retried)."""


class GrantsRefusedError(MemberActionError):
    """Lake Formation refused the local grants (AccessDenied): retrying the same event cannot
    change that — a withdrawn share, or a role without the rights — so it is reported, not
    retried."""


class PrincipalNotFoundError(GrantsRefusedError):
    """Lake Formation refused the local grants because their principal does not exist here
    (``InvalidInputException``, "Invalid principal": it grants only to IAM users and roles,
    https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_DataLakePrincipal.html).
    No retry makes the role exist: the request is refused, not retried."""


@dataclass(frozen=True)
class Action:
    action: str
    outcome: str  # SUCCEEDED | SKIPPED | REFUSED | FAILED
    target: str
    reason: str = ""
    # Why a refusal was made, as a code: central records it as the audit record's ``error_code``.
    code: str = ""

    def as_dict(self) -> dict[str, str]:
        data = {
            "action": self.action,
            "outcome": self.outcome,
            "target": self.target,
            "reason": self.reason[:2000],
        }
        if self.code:
            data["code"] = self.code
        return data


@dataclass
class MemberReport:
    correlation_id: str
    request_id: str | None = None
    linked: bool = False
    links_made: bool = False  # links in place, grants refused (see MemberActionsDetail)
    actions: list[Action] = field(default_factory=list)

    def detail(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "correlationId": self.correlation_id,
            "linked": self.linked,
            "linksMade": self.links_made,
            "actions": [a.as_dict() for a in self.actions[:200]],
        }


# --- pure decisions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What to do with a pending invitation: accept, reject, or leave it pending (and why)."""

    decision: str  # ACCEPT | REJECT | LEAVE
    reason: str
    code: str = ""


def central_database(resource_arn: str, central: str) -> str | None:
    """The central database a Glue database or table ARN lies in (None for anything else:
    another account's catalog, a whole catalog, a non-Glue resource)."""
    parts = resource_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "glue" or parts[4] != central:
        return None
    kind, _, path = parts[5].partition("/")
    if kind not in ("database", "table") or not path:
        return None
    return path.split("/", 1)[0] or None


def unexplained(
    resources: Sequence[Mapping[str, Any]], central: str, explained: Collection[str]
) -> list[str]:
    """ARNs of ``resources`` in no central database of ``explained``."""
    return [
        str(r.get("arn"))
        for r in resources
        if central_database(str(r.get("arn", "")), central) not in explained
    ]


def awaits_central_grant(
    invitation: Mapping[str, Any], central: str, explained: Collection[str] | None
) -> bool:
    """A pending invitation from central while no ``Access Granted`` is in hand: only such an
    event can explain it, so nothing is read or answered now."""
    return (
        invitation.get("status") == "PENDING"
        and str(invitation.get("senderAccountId", "")) == central
        and explained is None
    )


def invitation_verdict(
    invitation: Mapping[str, Any],
    resources: Sequence[Mapping[str, Any]] | None,
    *,
    trusted: Collection[str],
    central: str,
    explained: Collection[str] | None,
) -> Verdict | None:
    """The verdict on a pending invitation; None when it is not pending.

    ``resources`` are the RAM ``Resource`` entries the invitation's share holds
    (``ListPendingInvitationResources``); they may be None only when
    :func:`awaits_central_grant`. ``explained`` are the central databases meshgov granted this
    account, as the ``Access Granted`` being handled and this account's links tell; None when
    no such event is in hand (a RAM event, the schedule).
    """
    if invitation.get("status") != "PENDING":
        return None
    sender = str(invitation.get("senderAccountId", ""))
    if awaits_central_grant(invitation, central, explained):
        return Verdict(
            LEAVE,
            f"invitation from the central account {sender}: accepted only while an Access "
            "Granted event from central explains every resource it shares; left pending",
            "InvitationAwaitsGrant",
        )
    if resources is None:
        raise ValueError("the invitation's resources are needed for a verdict")
    catalog = [r for r in resources if r.get("type") in CATALOG_RESOURCE_TYPES]
    others = sorted({str(r.get("type")) for r in resources} - CATALOG_RESOURCE_TYPES)
    if not catalog:
        return Verdict(
            LEAVE,
            f"share from {sender} holds no Data Catalog resource "
            f"({', '.join(others) or 'no resource'}): not meshgov's to answer, left pending",
            "NotDataCatalogShare",
        )
    if sender not in trusted:
        return Verdict(REJECT, f"sender {sender} is not a trusted account", "InvitationUntrusted")
    if others:
        return Verdict(
            LEAVE,
            f"share from {sender} also holds {', '.join(others)}: accepting it would accept "
            "those too; left pending for the account's administrators",
            "InvitationMixed",
        )
    if sender != central:
        return Verdict(ACCEPT, f"pending invitation from trusted account {sender}")
    missing = unexplained(catalog, central, explained or ())
    outside = [str(r["arn"]) for r in catalog if central_database(str(r["arn"]), central) is None]
    if outside or len(missing) == len(catalog):
        return Verdict(
            LEAVE,
            f"{len(missing)} resource(s) shared by the central account {sender} are explained "
            f"by no grant meshgov made to this account: {', '.join(missing[:5])}; left pending",
            "InvitationUnexplained",
        )
    databases = sorted({central_database(str(r["arn"]), central) or "" for r in catalog})
    if missing:
        # Lake Formation keeps one share per account pair: grants made for other requests since
        # join it before their own Access Granted arrives. Accepting on the word of this one
        # (every resource in central's catalog) lets those follow; RAM adds later resources to an
        # accepted share without asking anyway.
        return Verdict(
            ACCEPT,
            f"the share from the central account {sender} holds databases this Access Granted "
            f"explains, and {len(missing)} resource(s) of central's catalog granted since "
            f"({', '.join(missing[:5])}), whose own Access Granted follows",
        )
    return Verdict(
        ACCEPT,
        f"every resource shared by the central account {sender} lies in a database meshgov "
        f"granted this account ({', '.join(databases)})",
    )


def grant_refusal(grant: LinkGrant, own_account: str, central: str, links: Collection[str]) -> str:
    """Why a grant central asked for must not be made here ('' when it is fine)."""
    if grant.principal.split(":")[4] != own_account:
        return f"principal {grant.principal} is not in this account"
    resource = grant.resource
    if set(resource) == {"Database"}:
        name = str(resource["Database"].get("Name", ""))
        if resource["Database"].get("CatalogId") not in (None, own_account) or name not in links:
            return f"database grant on {name} is not on one of the request's links"
        return ""
    if len(resource) == 1 and ("Table" in resource or "TableWithColumns" in resource):
        target = next(iter(resource.values()))
        if target.get("CatalogId") != central:
            return "table grants must target the central catalog"
        return ""
    if set(resource) == {"DataCellsFilter"}:
        cells = resource["DataCellsFilter"]
        if cells.get("TableCatalogId") != central:
            return "data cells filter grants must target a filter of the central catalog"
        if {p.value for p in grant.permissions} != {"SELECT"}:
            return "a data cells filter is granted SELECT only"
        return ""
    return f"resource {sorted(resource)} is not a link, a central table or a central filter"


def batch_entries(grants: Sequence[LinkGrant]) -> list[dict[str, Any]]:
    return [
        {
            "Id": f"g{index}",
            "Principal": {"DataLakePrincipalIdentifier": grant.principal},
            "Resource": grant.resource,
            "Permissions": [p.value for p in grant.permissions],
        }
        for index, grant in enumerate(grants)
    ]


def _expired(arn: str, sender: str, trusted: bool) -> Action:
    name = "ram:AcceptResourceShareInvitation" if trusted else "ram:RejectResourceShareInvitation"
    why = f"invitation from {sender} expired before it was answered"
    return Action(name, "REFUSED", arn, why, "InvitationExpired")


# --- the service -----------------------------------------------------------------------------


class MemberAccessService:
    def __init__(
        self,
        *,
        ram: Any,
        glue: Any,
        lakeformation: Any,
        events: Any,
        account_id: str,
        central_account: str,
        trusted_accounts: Collection[str],
        clock: Callable[[], datetime],
    ) -> None:
        self._ram = ram
        self._glue = glue
        self._lf = lakeformation
        self._events = events
        self.account_id = account_id
        self.central = central_account
        self._trusted = frozenset(trusted_accounts)
        self._clock = clock

    def handle(self, envelope: Envelope) -> MemberReport:
        report = MemberReport(envelope.event_id)
        try:
            if envelope.source in (RAM_SOURCE, SCHEDULE_SOURCE):
                self.answer_invitations(report, named=envelope.resources)
            elif envelope.source == ACCESS_SOURCE and envelope.detail_type == ACCESS_GRANTED:
                self._granted(envelope, report)
            elif envelope.source == ACCESS_SOURCE and envelope.detail_type == ACCESS_REVOKED:
                self._revoked(envelope, report)
            else:
                raise EventMalformedError(
                    f"the member access function does not handle {envelope.source} / "
                    f"{envelope.detail_type}"
                )
        except MemberActionError as exc:
            self._report_failure(report, envelope, exc)
            raise
        if report.actions:
            self._report(report)
        return report

    def _report_failure(
        self, report: MemberReport, envelope: Envelope, exc: MemberActionError
    ) -> None:
        """Tell central what was done and what failed (AWS's own words: an AccessDenied names the
        action and the role) before the event is retried; a report that cannot be sent leaves the
        retry to say it again."""
        report.actions.append(
            Action("member:handle", "FAILED", envelope.detail_type or envelope.source, str(exc))
        )
        with contextlib.suppress(MemberActionError):
            self._report(report)

    # --- RAM -------------------------------------------------------------------------------------
    def answer_invitations(
        self,
        report: MemberReport,
        named: Collection[str] = (),
        explained: Collection[str] | None = None,
    ) -> set[str]:
        """Answer pending invitations by :func:`invitation_verdict`; the central databases held
        by central's invitations left pending (what this account cannot use yet).

        ``explained``: the databases the ``Access Granted`` being handled links (None on RAM
        events and the schedule). An invitation left pending is reported when the RAM event that
        triggered this run names it, or while an ``Access Granted`` is handled: reporting it on
        every schedule would repeat itself until it expires. So is one that expired unanswered,
        when the RAM event names it (RAM lists it as ``EXPIRED`` forever after)."""
        blocked: set[str] = set()
        for invitation in self._invitations():
            arn = str(invitation["resourceShareInvitationArn"])
            sender = str(invitation.get("senderAccountId", ""))
            if invitation.get("status") == "EXPIRED" and arn in named:
                report.actions.append(_expired(arn, sender, sender in self._trusted))
                continue
            if invitation.get("status") != "PENDING":
                continue
            resources = None
            if not awaits_central_grant(invitation, self.central, explained):
                resources = self._pending_resources(arn, sender, report)
                if resources is None:
                    continue  # expired or answered meanwhile
            verdict = self._verdict(invitation, resources, explained)
            if verdict is None:
                continue
            if verdict.decision == LEAVE:
                if sender == self.central and resources is not None:
                    blocked |= {
                        db
                        for r in resources
                        if (db := central_database(str(r.get("arn", "")), self.central))
                    }
                if arn in named or explained is not None:
                    report.actions.append(
                        Action("access:invitation", "SKIPPED", arn, verdict.reason, verdict.code)
                    )
                continue
            self._answer(arn, sender, verdict, report)
        return blocked

    def _verdict(
        self,
        invitation: Mapping[str, Any],
        resources: Sequence[Mapping[str, Any]] | None,
        explained: Collection[str] | None,
    ) -> Verdict | None:
        """The verdict, with this account's links to central as explanations too when the event
        in hand does not explain everything (an earlier ``Access Granted`` made them)."""
        verdict = invitation_verdict(
            invitation, resources, trusted=self._trusted, central=self.central, explained=explained
        )
        if verdict is None or verdict.code != "InvitationUnexplained" or resources is None:
            return verdict
        missing = {
            central_database(a, self.central)
            for a in unexplained(resources, self.central, explained or ())
        }
        linked = self._linked_to_central(sorted(db for db in missing if db))
        if not linked:
            return verdict
        return invitation_verdict(
            invitation,
            resources,
            trusted=self._trusted,
            central=self.central,
            explained={*(explained or ()), *linked},
        )

    def _linked_to_central(self, databases: Sequence[str]) -> set[str]:
        """Which of ``databases`` this account links, by the same name, to central's."""
        linked = set()
        for database in databases:
            try:
                current = database_or_none(self._glue, self.account_id, database)
            except (ClientError, BotoCoreError) as exc:
                raise MemberActionError(f"link {database}: {exc}") from exc
            target = (current or {}).get("TargetDatabase") or {}
            if target.get("CatalogId") == self.central and target.get("DatabaseName") == database:
                linked.add(database)
        return linked

    def _answer(self, arn: str, sender: str, verdict: Verdict, report: MemberReport) -> None:
        accept = verdict.decision == ACCEPT
        operation = (
            "accept_resource_share_invitation" if accept else "reject_resource_share_invitation"
        )
        name = (
            "ram:AcceptResourceShareInvitation" if accept else "ram:RejectResourceShareInvitation"
        )
        try:
            getattr(self._ram, operation)(resourceShareInvitationArn=arn, clientToken=arn[-64:])
        except ClientError as exc:
            code = error_code(exc)
            if code.endswith("ExpiredException"):
                report.actions.append(_expired(arn, sender, sender in self._trusted))
                return
            if code.endswith("AlreadyAcceptedException") or code.endswith(
                "AlreadyRejectedException"
            ):
                return
            raise MemberActionError(f"{name} {arn}: {code}") from exc
        except BotoCoreError as exc:
            raise MemberActionError(f"{name} {arn}: {exc}") from exc
        if accept:
            report.actions.append(Action(name, "SUCCEEDED", arn, verdict.reason))
        else:
            report.actions.append(Action(name, "REFUSED", arn, verdict.reason, verdict.code))

    def _pending_resources(
        self, arn: str, sender: str, report: MemberReport
    ) -> list[dict[str, Any]] | None:
        """What the invitation's share holds (``ListPendingInvitationResources``, all pages);
        None when it expired (reported) or was answered since it was listed."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        try:
            while True:
                kwargs: dict[str, Any] = {"resourceShareInvitationArn": arn, "maxResults": 500}
                if token:
                    kwargs["nextToken"] = token
                page = self._ram.list_pending_invitation_resources(**kwargs)
                found.extend(page.get("resources", []))
                token = page.get("nextToken")
                if not token:
                    return found
        except ClientError as exc:
            code = error_code(exc)
            if code == "ResourceShareInvitationExpiredException":
                report.actions.append(_expired(arn, sender, sender in self._trusted))
                return None
            if code in (
                "ResourceShareInvitationAlreadyRejectedException",
                "ResourceShareInvitationArnNotFoundException",
            ):
                return None
            raise MemberActionError(f"ram:ListPendingInvitationResources {arn}: {code}") from exc
        except BotoCoreError as exc:
            raise MemberActionError(f"ram:ListPendingInvitationResources {arn}: {exc}") from exc

    def _invitations(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        try:
            token: str | None = None
            while True:
                kwargs: dict[str, Any] = {"maxResults": 500}
                if token:
                    kwargs["nextToken"] = token
                page = self._ram.get_resource_share_invitations(**kwargs)
                found.extend(page.get("resourceShareInvitations", []))
                token = page.get("nextToken")
                if not token:
                    return found
        except (ClientError, BotoCoreError) as exc:
            raise MemberActionError(f"ram:GetResourceShareInvitations: {exc}") from exc

    # --- Access Granted --------------------------------------------------------------------------
    def _from_central(self, envelope: Envelope, report: MemberReport) -> bool:
        if envelope.account == self.central:
            return True
        report.actions.append(
            Action(
                f"access:{envelope.detail_type.lower().replace(' ', '-')}",
                "REFUSED",
                self.account_id,
                f"event from account {envelope.account}, not the central account {self.central}",
                "EventNotFromCentral",
            )
        )
        return False

    def _central_detail(
        self, envelope: Envelope, report: MemberReport, model: type[CentralDetail]
    ) -> CentralDetail | None:
        """The detail of an event central sent; None (refusal reported) from anyone else."""
        if not self._from_central(envelope, report):
            return None
        try:
            detail = model.model_validate(envelope.detail)
        except ValidationError as exc:
            raise EventMalformedError(f"{envelope.detail_type}: {validation_reason(exc)}") from exc
        report.request_id = detail.request_id
        return detail

    def _granted(self, envelope: Envelope, report: MemberReport) -> None:
        detail = self._central_detail(envelope, report, AccessGrantedDetail)
        if detail is None:
            return
        if detail.consumer_account != self.account_id:
            report.actions.append(
                Action(
                    "access:granted",
                    "REFUSED",
                    detail.request_id,
                    "not for this account",
                    "RequestNotForThisAccount",
                )
            )
            return
        if detail.expires_at is not None and detail.expires_at <= self._clock():
            report.actions.append(
                Action("access:granted", "SKIPPED", detail.request_id, "already expired")
            )
            return
        refusals = [
            why
            for g in detail.grants
            if (why := grant_refusal(g, self.account_id, self.central, detail.links))
        ]
        if refusals:
            report.actions.append(
                Action(
                    "access:granted",
                    "REFUSED",
                    detail.request_id,
                    "; ".join(refusals[:5]),
                    "GrantRefused",
                )
            )
            return
        blocked = self.answer_invitations(report, explained=set(detail.links))
        linked = [self._ensure_link(database, report) for database in detail.links]
        if not all(linked):
            return  # a name is taken: nothing granted, the request stays GRANTED, audited
        waiting = sorted(blocked & set(detail.links))
        if waiting:
            # The links stay: they are how a later Access Granted (another request's, sharing
            # the same invitation) explains these databases. Retried until then.
            self._report(report)
            raise MemberActionError(
                f"{detail.request_id}: central's invitation sharing {', '.join(waiting)} is "
                "left pending (not yet explained); grants wait until it is accepted"
            )
        try:
            self._batch("batch_grant_permissions", detail.grants, report, "GrantPermissions")
        except PrincipalNotFoundError as exc:
            # Nothing was granted (every grant names the request's principal); the links stay
            # for central to undo with the request (they may serve other requests too).
            report.links_made = True
            principals = ", ".join(sorted({g.principal for g in detail.grants}))
            report.actions.append(
                Action(
                    "lakeformation:BatchGrantPermissions",
                    "REFUSED",
                    detail.request_id,
                    f"the request's principal {principals} does not exist in account "
                    f"{self.account_id}: nothing granted ({exc})",
                    PRINCIPAL_NOT_FOUND,
                )
            )
            return
        except GrantsRefusedError as exc:
            # Links without grants: central answers a withdrawn request with Access Revoked (the
            # links are undone); a live one stays GRANTED and the access sweep re-shares it.
            report.links_made = True
            report.actions.append(
                Action("lakeformation:BatchGrantPermissions", "FAILED", detail.request_id, str(exc))
            )
            return
        report.linked = True

    def _ensure_link(self, database: str, report: MemberReport) -> bool:
        """Create the link (no read first: ``AlreadyExistsException`` says it is there, and only
        then is it read to check that it is ours). False when the name is taken by something
        else: refused and reported, never overwritten."""
        target = {"CatalogId": self.central, "DatabaseName": database}
        try:
            self._glue.create_database(DatabaseInput={"Name": database, "TargetDatabase": target})
        except ClientError as exc:
            if error_code(exc) != "AlreadyExistsException":
                raise MemberActionError(f"link {database}: {error_code(exc)}") from exc
            try:
                current = database_or_none(self._glue, self.account_id, database)
            except (ClientError, BotoCoreError) as read_exc:
                raise MemberActionError(f"link {database}: {read_exc}") from read_exc
            existing = (current or {}).get("TargetDatabase") or {}
            if (
                existing.get("CatalogId") == self.central
                and existing.get("DatabaseName") == database
            ):
                return True
            report.actions.append(
                Action(
                    "glue:CreateDatabase",
                    "REFUSED",
                    database,
                    f"a database named {database} exists here and is not a link to "
                    f"{self.central}:{database}: rename it, then the link will be made",
                    code="LinkNameTaken",
                )
            )
            return False
        except BotoCoreError as exc:
            raise MemberActionError(f"link {database}: {exc}") from exc
        report.actions.append(
            Action(
                "glue:CreateDatabase",
                "SUCCEEDED",
                database,
                f"resource link to {self.central}:{database}",
            )
        )
        return True

    # --- Access Revoked --------------------------------------------------------------------------
    def _revoked(self, envelope: Envelope, report: MemberReport) -> None:
        detail = self._central_detail(envelope, report, AccessRevokedDetail)
        if detail is None:
            return
        names = {g.resource.get("Database", {}).get("Name") for g in detail.revoke} - {None}
        refusals = [
            why
            for g in detail.revoke
            if (why := grant_refusal(g, self.account_id, self.central, names))
        ]
        if refusals or detail.consumer_account != self.account_id:
            report.actions.append(
                Action(
                    "access:revoked",
                    "REFUSED",
                    detail.request_id,
                    "; ".join(refusals[:5]) or "not for this account",
                    "GrantRefused" if refusals else "RequestNotForThisAccount",
                )
            )
            return
        self._batch("batch_revoke_permissions", detail.revoke, report, "RevokePermissions")
        for database in detail.remove_links:
            self._remove_link(database, report)

    def _remove_link(self, database: str, report: MemberReport) -> None:
        try:
            current = database_or_none(self._glue, self.account_id, database)
            target = (current or {}).get("TargetDatabase") or {}
            if current is None or target.get("CatalogId") != self.central:
                report.actions.append(
                    Action("glue:DeleteDatabase", "SKIPPED", database, "no link to central here")
                )
                return
            self._glue.delete_database(Name=database)
        except ClientError as exc:
            if error_code(exc) == "EntityNotFoundException":
                return
            raise MemberActionError(f"remove link {database}: {error_code(exc)}") from exc
        except BotoCoreError as exc:
            raise MemberActionError(f"remove link {database}: {exc}") from exc
        report.actions.append(Action("glue:DeleteDatabase", "SUCCEEDED", database, "link removed"))

    # --- shared ----------------------------------------------------------------------------------
    def _batch(
        self, operation: str, grants: Sequence[LinkGrant], report: MemberReport, name: str
    ) -> None:
        if not grants:
            return
        for chunk in grant_batches(batch_entries(grants)):
            try:
                response = getattr(self._lf, operation)(CatalogId=self.account_id, Entries=chunk)
            except (ClientError, BotoCoreError) as exc:
                raise MemberActionError(f"lakeformation:{name}: {exc}") from exc
            failures = response.get("Failures") or []
            if operation == "batch_revoke_permissions":
                # Revoking a grant on what no longer exists (central deleted the request's data
                # cells filter first): there is nothing left to revoke.
                failures = [
                    f
                    for f in failures
                    if (f.get("Error") or {}).get("ErrorCode") != "EntityNotFoundException"
                ]
            if failures:
                error = failures[0].get("Error") or {}
                text = (
                    f"lakeformation:{name}: {error.get('ErrorCode')}: {error.get('ErrorMessage')}"
                )
                if error.get("ErrorCode") == "AccessDeniedException":
                    raise GrantsRefusedError(text)
                if (
                    operation == "batch_grant_permissions"
                    and error.get("ErrorCode") == "InvalidInputException"
                    and "principal" in str(error.get("ErrorMessage", "")).lower()
                ):
                    raise PrincipalNotFoundError(text)
                raise MemberActionError(text)
        principals = sorted({g.principal for g in grants})
        report.actions.append(
            Action(
                f"lakeformation:Batch{name}",
                "SUCCEEDED",
                ",".join(principals),
                f"{len(grants)} grants",
            )
        )

    def _report(self, report: MemberReport) -> None:
        """One event per invocation to the default bus; the forwarding rule takes it to central."""
        try:
            response = self._events.put_events(
                Entries=[
                    {
                        "Source": ACCESS_SOURCE,
                        "DetailType": MEMBER_ACTIONS,
                        "Detail": json.dumps(report.detail(), sort_keys=True),
                    }
                ]
            )
        except (ClientError, BotoCoreError) as exc:
            raise MemberActionError(f"reporting to central failed: {exc}") from exc
        if response.get("FailedEntryCount"):
            raise MemberActionError(f"reporting to central failed: {response.get('Entries')}")
