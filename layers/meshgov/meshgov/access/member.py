"""A member account's access function: accept trusted RAM invitations, make and remove links.

Runs in each member (producer or consumer) account on the member's own ``aws.ram`` events, on
meshgov's ``Access Granted``/``Access Revoked`` events that central puts on the member's
``meshgov`` bus, and on a schedule (RAM events are best effort, and an invitation expires about
12 hours after it was sent:
https://docs.aws.amazon.com/ram/latest/userguide/working-with-shared-invitations.html).

Trust: an invitation is accepted only when it is ``PENDING`` and its ``senderAccountId`` is one of
the configured trusted accounts; every other pending invitation is rejected. Access events are
obeyed only when EventBridge says they came from the central account, and only for this
account's own principals, its own links and the central catalog. What it did is reported to the
central audit trail as one ``Member Actions Recorded`` event per invocation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from meshgov.access.envelope import Envelope
from meshgov.aws.session import error_code
from meshgov.catalog.glue_reads import database_or_none
from meshgov.catalog.plan import chunks
from meshgov.contracts.access_events import (
    ACCESS_GRANTED,
    ACCESS_REVOKED,
    ACCESS_SOURCE,
    MEMBER_ACTIONS,
    AccessGrantedDetail,
    AccessRevokedDetail,
    LinkGrant,
)
from meshgov.errors import EventMalformedError, MeshgovError

CentralDetail = TypeVar("CentralDetail", AccessGrantedDetail, AccessRevokedDetail)
RAM_SOURCE = "aws.ram"
SCHEDULE_SOURCE = "aws.events"
BATCH_MAX = 20


class MemberActionError(MeshgovError):
    """A RAM, Glue or Lake Formation call in the member account failed (the event is retried)."""


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
    actions: list[Action] = field(default_factory=list)

    def detail(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "correlationId": self.correlation_id,
            "linked": self.linked,
            "actions": [a.as_dict() for a in self.actions[:200]],
        }


# --- pure decisions --------------------------------------------------------------------------


def invitation_verdict(
    invitation: Mapping[str, Any], trusted: Collection[str]
) -> tuple[str, str] | None:
    """("accept" | "reject", why) for a pending invitation; None when there is nothing to do."""
    if invitation.get("status") != "PENDING":
        return None
    sender = str(invitation.get("senderAccountId", ""))
    if sender in trusted:
        return "accept", f"pending invitation from trusted account {sender}"
    return "reject", f"sender {sender} is not a trusted account"


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
    return f"resource {sorted(resource)} is not a link or a central table"


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
        if report.actions:
            self._report(report)
        return report

    # --- RAM -------------------------------------------------------------------------------------
    def answer_invitations(self, report: MemberReport, named: Collection[str] = ()) -> None:
        """Accept trusted pending invitations, reject the others. An invitation that expired
        unanswered is reported when the RAM event that triggered this run names it (RAM lists
        it as ``EXPIRED`` forever after: reporting it on every schedule would repeat itself)."""
        for invitation in self._invitations():
            arn = str(invitation["resourceShareInvitationArn"])
            sender = str(invitation.get("senderAccountId", ""))
            if invitation.get("status") == "EXPIRED" and arn in named:
                report.actions.append(_expired(arn, sender, sender in self._trusted))
                continue
            verdict = invitation_verdict(invitation, self._trusted)
            if verdict is None:
                continue
            decision, why = verdict
            operation = (
                "accept_resource_share_invitation"
                if decision == "accept"
                else "reject_resource_share_invitation"
            )
            name = (
                "ram:AcceptResourceShareInvitation"
                if decision == "accept"
                else ("ram:RejectResourceShareInvitation")
            )
            try:
                getattr(self._ram, operation)(resourceShareInvitationArn=arn, clientToken=arn[-64:])
            except ClientError as exc:
                code = error_code(exc)
                if code.endswith("ExpiredException"):
                    report.actions.append(_expired(arn, sender, decision == "accept"))
                    continue
                if code.endswith("AlreadyAcceptedException") or code.endswith(
                    "AlreadyRejectedException"
                ):
                    continue
                raise MemberActionError(f"{name} {arn}: {code}") from exc
            except BotoCoreError as exc:
                raise MemberActionError(f"{name} {arn}: {exc}") from exc
            if decision == "accept":
                report.actions.append(Action(name, "SUCCEEDED", arn, why))
            else:
                report.actions.append(Action(name, "REFUSED", arn, why, "InvitationUntrusted"))

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
            raise EventMalformedError(
                f"{envelope.detail_type}: {exc.errors()[0].get('msg')}"
            ) from exc
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
        self.answer_invitations(report)
        linked = [self._ensure_link(database, report) for database in detail.links]
        if not all(linked):
            return  # a name is taken: nothing granted, the request stays GRANTED, audited
        self._batch("batch_grant_permissions", detail.grants, report, "GrantPermissions")
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
        for chunk in chunks(batch_entries(grants), BATCH_MAX):
            try:
                response = getattr(self._lf, operation)(CatalogId=self.account_id, Entries=chunk)
            except (ClientError, BotoCoreError) as exc:
                raise MemberActionError(f"lakeformation:{name}: {exc}") from exc
            failures = response.get("Failures") or []
            if failures:
                raise MemberActionError(f"lakeformation:{name}: {failures[0].get('Error')}")
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
