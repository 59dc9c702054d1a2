"""AWS RAM resource-share invitations and "shared with me" views, which moto 5.2.5 lacks.

Followed documents:

- Accepting and rejecting invitations,
  https://docs.aws.amazon.com/ram/latest/userguide/working-with-shared-invitations.html: an
  account outside the owner's organization (or inside it when sharing with AWS Organizations is
  not enabled) receives an invitation and gets access only after accepting it; inside an
  organization with sharing enabled, access is immediate and no invitation is sent. For resource
  types not on the seven-day list (Glue databases and tables are not on it) "you have 12 hours to
  accept the invitation ... After 12 hours, the invitation expires and the end user principal in
  the resource share is disassociated", so "the originating account must share the resources again
  to generate a new invitation". The emulated clock is :meth:`EmulatorControls.now`.
- ResourceShareInvitation, https://docs.aws.amazon.com/ram/latest/APIReference/API_ResourceShareInvitation.html:
  ``resourceShareInvitationArn``, ``resourceShareName``, ``resourceShareArn``,
  ``senderAccountId``, ``receiverAccountId``, ``invitationTimestamp``, ``status`` (``PENDING |
  ACCEPTED | REJECTED | EXPIRED``). The invitation ARN is in the sender's account, as in Lake
  Formation's example (https://docs.aws.amazon.com/lake-formation/latest/dg/accepting-ram-invite.html).
- GetResourceShareInvitations, https://docs.aws.amazon.com/ram/latest/APIReference/API_GetResourceShareInvitations.html:
  the invitations the caller received, filtered by ``resourceShareInvitationArns`` and
  ``resourceShareArns``; ``maxResults`` 1 to 500 (``InvalidMaxResultsException``),
  ``nextToken`` (``InvalidNextTokenException``); an unknown ARN is
  ``ResourceShareInvitationArnNotFoundException``, a malformed one ``MalformedArnException``.
- AcceptResourceShareInvitation, https://docs.aws.amazon.com/ram/latest/APIReference/API_AcceptResourceShareInvitation.html,
  and RejectResourceShareInvitation, https://docs.aws.amazon.com/ram/latest/APIReference/API_RejectResourceShareInvitation.html:
  ``ResourceShareInvitationAlreadyAcceptedException``, ``...AlreadyRejectedException``,
  ``...ExpiredException`` ("the specified invitation is past its expiration date and time"),
  ``...ArnNotFoundException``, ``MalformedArnException``; ``clientToken`` makes a retry return
  the first answer, and reusing it with other parameters is
  ``IdempotentParameterMismatchException``.
- GetResourceShares, https://docs.aws.amazon.com/ram/latest/APIReference/API_GetResourceShares.html,
  and ListResources, https://docs.aws.amazon.com/ram/latest/APIReference/API_ListResources.html:
  ``resourceOwner`` ``SELF`` (shared by the caller) or ``OTHER-ACCOUNTS`` (shared with the caller:
  moto raises "not implemented"); filters and paging as documented. A share counts as shared with
  the caller once its invitation was accepted, or at once inside the organization.
- GetResourceShareAssociations: a principal that has not answered its invitation is
  ``ASSOCIATING``, then ``ASSOCIATED`` (moto reports every principal ``ASSOCIATED``).
- ListPendingInvitationResources, https://docs.aws.amazon.com/ram/latest/APIReference/API_ListPendingInvitationResources.html:
  "the resources in a resource share that is shared with you but for which the invitation is
  still PENDING", as ``Resource`` entries (``arn``, ``type``, ``resourceShareArn``, ...); a
  rejected or expired invitation is ``ResourceShareInvitationAlreadyRejectedException`` or
  ``ResourceShareInvitationExpiredException``, an unknown one
  ``ResourceShareInvitationArnNotFoundException``, a malformed one ``MalformedArnException``;
  ``maxResults`` 1 to 500 (``InvalidParameterException``: the operation documents no
  ``InvalidMaxResultsException``). The documents name no error for an *accepted* invitation: the
  emulator answers ``InvalidParameterException`` (the invitation is not ``PENDING``).
- CreateResourceShare, https://docs.aws.amazon.com/ram/latest/APIReference/API_CreateResourceShare.html,
  with an AWS account id among its ``principals`` (any shareable type moto accepts: an EC2
  subnet, a transit gateway, a Glue table): "If you specify an AWS account that doesn't exist in
  the same organization as the account that owns the resource share, the owner of the specified
  account receives an invitation to accept the resource share" (the RAM API reference's
  introduction, https://docs.aws.amazon.com/ram/latest/APIReference/Welcome.html), so the account
  is invited exactly as for a Lake Formation share, by the rules of the invitations page above
  (moto associates it silently, and the account never sees the share). Not emulated:
  ``allowExternalPrincipals`` (moto ignores it) and checking that the resource exists.
- Events, https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-ram.html: RAM sends
  ``Resource Sharing State Change`` (source ``aws.ram``, best effort) "for both the owner of the
  resource share and the principals"; https://docs.aws.amazon.com/ram/latest/userguide/using-eventbridge.html
  documents the detail fields ``event`` (``Resource Share Association``) and ``status``
  (lower case). The documents give no complete detail for invitations: the emulator puts
  ``{"event": "Resource Share Invitation", "status": "pending"}`` on the receiver's default bus
  with the invitation and share ARNs in ``resources``, and ``{"event": "Resource Share
  Association", "status": "associated"}`` when the receiver is associated directly. Consumers
  should treat the event as a trigger and read GetResourceShareInvitations.

Shares are moto's own ``ResourceShare`` objects in the owner's backend, so ``SELF`` views and
associations keep working; invitations live in the receiver's backend and reset with moto.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import string
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import moto.ram.urls as ram_urls
from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time, utcnow
from moto.events.models import events_backends
from moto.moto_api._internal import mock_random
from moto.ram.models import ResourceAccessManagerBackend, ResourceShare, ram_backends
from moto.ram.responses import ResourceAccessManagerResponse

from ._patching import patch_attr, wrap_method
from .controls import controls

LOGGER = logging.getLogger(__name__)

INVITATION_TTL = timedelta(hours=12)
MAX_RESULTS = 500
SOURCE = "aws.ram"
DETAIL_TYPE = "Resource Sharing State Change"
RESOURCE_OWNERS = ("SELF", "OTHER-ACCOUNTS")
NEW_ROUTES = (
    "getresourceshareinvitations",
    "acceptresourceshareinvitation",
    "rejectresourceshareinvitation",
    "listresources",
    "listpendinginvitationresources",
)
_ACCOUNT = re.compile(r"^\d{12}$")
_INVITATION_ARN = re.compile(
    r"^arn:aws[a-z-]*:ram:[a-z0-9-]+:\d{12}:resource-share-invitation/[A-Za-z0-9-]+$"
)
_SHARE_ARN = re.compile(r"^arn:aws[a-z-]*:ram:[a-z0-9-]+:\d{12}:resource-share/[A-Za-z0-9-]+$")

ASSOCIATING = "ASSOCIATING"
ASSOCIATED = "ASSOCIATED"

_LOCK = threading.RLock()


def ram_error(code: str, message: str) -> JsonRESTError:
    error = JsonRESTError(code, message)
    error.code = 400
    return error


@dataclass
class Invitation:
    """One resource-share invitation, as the receiving account sees it."""

    arn: str
    share_arn: str
    share_name: str
    sender: str
    receiver: str
    region: str
    sent: datetime
    answer: str | None = None  # ACCEPTED or REJECTED once answered

    def status(self, now: datetime) -> str:
        if self.answer is not None:
            return self.answer
        return "EXPIRED" if now - self.sent >= INVITATION_TTL else "PENDING"

    def describe(self, now: datetime) -> dict[str, Any]:
        return {
            "resourceShareInvitationArn": self.arn,
            "resourceShareName": self.share_name,
            "resourceShareArn": self.share_arn,
            "senderAccountId": self.sender,
            "receiverAccountId": self.receiver,
            "invitationTimestamp": self.sent.timestamp(),
            "status": self.status(now),
        }


@dataclass
class ReceiverState:
    """What RAM keeps for a receiving account: invitations, shares, answered client tokens."""

    invitations: list[Invitation] = field(default_factory=list)
    incoming: dict[str, str] = field(default_factory=dict)  # share ARN -> owner account
    tokens: dict[str, tuple[str, str, dict[str, Any]]] = field(default_factory=dict)


def receiver_state(backend: Any) -> ReceiverState:
    state = backend.__dict__.get("meshgov_receiver_state")
    if state is None:
        state = backend.__dict__["meshgov_receiver_state"] = ReceiverState()
    return state  # type: ignore[no-any-return]


def principal_status(share: Any) -> dict[str, str]:
    """Association status of each principal of a share (moto keeps only the list)."""
    statuses = share.__dict__.get("meshgov_principals")
    if statuses is None:
        statuses = share.__dict__["meshgov_principals"] = dict.fromkeys(
            share.principals, ASSOCIATED
        )
    return statuses  # type: ignore[no-any-return]


def _backend(account: str, region: str) -> Any:
    return ram_backends[account][region]


def _find_share(account: str, region: str, share_arn: str) -> Any | None:
    for share in _backend(account, region).resource_shares:
        if share.arn == share_arn:
            return share
    return None


# --- association -------------------------------------------------------------------------------


def _associate(share: Any, receiver: str, status: str) -> None:
    principal_status(share)[receiver] = status
    if receiver not in share.principals:
        share.principals.append(receiver)
    share.last_updated_time = utcnow()
    if status == ASSOCIATED:
        receiver_state(_backend(receiver, share.region)).incoming[share.arn] = share.account_id


def _disassociate(share: Any, receiver: str) -> None:
    principal_status(share).pop(receiver, None)
    if receiver in share.principals:
        share.principals.remove(receiver)
    share.last_updated_time = utcnow()
    receiver_state(_backend(receiver, share.region)).incoming.pop(share.arn, None)


def expire_invitations(receiver: str, region: str) -> None:
    """Disassociate the receiver from shares whose invitation expired unanswered."""
    now = controls.now()
    with _LOCK:
        for invitation in receiver_state(_backend(receiver, region)).invitations:
            if invitation.status(now) != "EXPIRED":
                continue
            share = _find_share(invitation.sender, region, invitation.share_arn)
            if share is not None and principal_status(share).get(receiver) == ASSOCIATING:
                _disassociate(share, receiver)


def _emit(receiver: str, region: str, detail: dict[str, Any], resources: list[str]) -> None:
    entry = {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(detail),
        "Resources": resources,
        "EventBusName": "default",
    }
    try:
        events_backends[receiver][region].put_events([entry])
    except Exception:  # best effort: a failing target must not fail the share
        LOGGER.exception("putting RAM event %s failed", detail)


def _invite(share: Any, receiver: str) -> Invitation:
    invitation = Invitation(
        arn=(
            f"arn:{share.partition}:ram:{share.region}:{share.account_id}:"
            f"resource-share-invitation/{uuid.uuid4()}"
        ),
        share_arn=share.arn,
        share_name=share.name,
        sender=share.account_id,
        receiver=receiver,
        region=share.region,
        sent=controls.now(),
    )
    receiver_state(_backend(receiver, share.region)).invitations.append(invitation)
    _associate(share, receiver, ASSOCIATING)
    _emit(
        receiver,
        share.region,
        {"event": "Resource Share Invitation", "status": "pending"},
        [invitation.arn, share.arn],
    )
    return invitation


def associate_receiver(share: Any, receiver: str) -> None:
    """Give ``receiver`` the share: directly inside the organization, else by invitation."""
    with _LOCK:
        expire_invitations(receiver, share.region)
        if principal_status(share).get(receiver) in (ASSOCIATING, ASSOCIATED):
            return
        if controls.shares_without_invitation(share.account_id, receiver):
            _associate(share, receiver, ASSOCIATED)
            _emit(
                receiver,
                share.region,
                {"event": "Resource Share Association", "status": "associated"},
                [share.arn],
            )
        else:
            _invite(share, receiver)


def _random_suffix(size: int = 5) -> str:
    return "".join(mock_random.choice(string.ascii_letters) for _ in range(size))


def share_with_account(
    owner: str, region: str, receiver: str, resource_arns: Sequence[str]
) -> str | None:
    """Make ``owner``'s share for ``receiver`` hold exactly ``resource_arns``; its ARN.

    One share per pair of accounts, created on first use and reused; emptied, it is deleted and the
    receiver loses it. Returns None when no share remains.
    """
    wanted = list(dict.fromkeys(resource_arns))
    with _LOCK:
        backend = _backend(owner, region)
        share = lakeformation_share(owner, region, receiver)
        if not wanted:
            if share is not None:
                for principal in list(share.principals):
                    _disassociate(share, principal)
                share.resource_arns.clear()
                share.delete()
            return None
        if share is None:
            share = ResourceShare(owner, region, name=f"{owner}-{receiver}-{_random_suffix()}")
            share.__dict__["meshgov_receiver"] = receiver
            backend.resource_shares.append(share)
        added = [arn for arn in wanted if arn not in share.resource_arns]
        if added:
            share.add_resources(added)
        for arn in list(share.resource_arns):
            if arn not in wanted:
                share.resource_arns.remove(arn)
        times: dict[str, datetime] = share.__dict__.setdefault("meshgov_resource_times", {})
        for arn in added:
            times[arn] = utcnow()
        share.last_updated_time = utcnow()
        if added:
            # Sharing a resource (again) associates the receiver, by invitation when needed;
            # removing resources from the share invites nobody.
            associate_receiver(share, receiver)
        return str(share.arn)


def lakeformation_share(owner: str, region: str, receiver: str) -> Any | None:
    """``owner``'s active share of Data Catalog resources with ``receiver``, if any."""
    for share in _backend(owner, region).resource_shares:
        if share.__dict__.get("meshgov_receiver") == receiver and share.status == "ACTIVE":
            return share
    return None


def share_accepted(owner: str, region: str, receiver: str) -> bool:
    """Whether ``receiver`` holds ``owner``'s Data Catalog share: accepted (or associated directly
    inside an organization). Until then the shared resources are not the receiver's to use
    ("principals must accept the invitation before they can access the shared resources",
    https://docs.aws.amazon.com/ram/latest/userguide/working-with-shared-invitations.html)."""
    share = lakeformation_share(owner, region, receiver)
    return share is not None and principal_status(share).get(receiver) == ASSOCIATED


# --- the receiver's views ----------------------------------------------------------------------


def _incoming_shares(receiver: str, region: str) -> list[Any]:
    expire_invitations(receiver, region)
    shares = []
    for share_arn, owner in list(receiver_state(_backend(receiver, region)).incoming.items()):
        share = _find_share(owner, region, share_arn)
        if (
            share is not None
            and share.status == "ACTIVE"
            and principal_status(share).get(receiver) == ASSOCIATED
        ):
            shares.append(share)
    return shares


def _page(
    items: list[dict[str, Any]], max_results: Any, next_token: str | None, strict_max: bool
) -> tuple[list[dict[str, Any]], str | None]:
    size = MAX_RESULTS if max_results is None else int(max_results)
    if not 1 <= size <= MAX_RESULTS:
        if strict_max:
            raise ram_error(
                "InvalidMaxResultsException",
                f"The specified value for MaxResults is not valid: {size}",
            )
        raise ram_error(
            "InvalidParameterException", f"maxResults must be between 1 and {MAX_RESULTS}"
        )
    offset = 0
    if next_token:
        try:
            offset = int(json.loads(base64.urlsafe_b64decode(next_token.encode()))["offset"])
        except (binascii.Error, ValueError, KeyError, TypeError) as error:
            raise ram_error(
                "InvalidNextTokenException", "The specified value for NextToken is not valid."
            ) from error
    selected = items[offset : offset + size]
    token = None
    if offset + size < len(items):
        token = base64.urlsafe_b64encode(json.dumps({"offset": offset + size}).encode()).decode()
    return selected, token


def _check_arns(arns: Sequence[str], pattern: re.Pattern[str]) -> None:
    for arn in arns:
        if not pattern.match(str(arn)):
            raise ram_error(
                "MalformedArnException",
                f"The specified resource ARN {arn} is not valid. Verify the ARN and try again.",
            )


def get_resource_share_invitations(
    receiver: str,
    region: str,
    invitation_arns: Sequence[str],
    share_arns: Sequence[str],
    max_results: Any,
    next_token: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    _check_arns(invitation_arns, _INVITATION_ARN)
    _check_arns(share_arns, _SHARE_ARN)
    expire_invitations(receiver, region)
    now = controls.now()
    invitations = sorted(
        receiver_state(_backend(receiver, region)).invitations, key=lambda i: i.sent
    )
    known = {invitation.arn for invitation in invitations}
    for arn in invitation_arns:
        if arn not in known:
            raise ram_error(
                "ResourceShareInvitationArnNotFoundException",
                f"ResourceShareInvitation {arn} could not be found.",
            )
    selected = [
        invitation.describe(now)
        for invitation in invitations
        if (not invitation_arns or invitation.arn in invitation_arns)
        and (not share_arns or invitation.share_arn in share_arns)
    ]
    return _page(selected, max_results, next_token, strict_max=True)


def _invitation(state: ReceiverState, invitation_arn: str) -> Invitation:
    """The receiver's invitation ``invitation_arn``, or RAM's not-found error."""
    invitation = next((i for i in state.invitations if i.arn == invitation_arn), None)
    if invitation is None:
        raise ram_error(
            "ResourceShareInvitationArnNotFoundException",
            f"ResourceShareInvitation {invitation_arn} could not be found.",
        )
    return invitation


def _refuse_closed(invitation_arn: str, status: str) -> None:
    """RAM's errors for an invitation already rejected or expired."""
    if status == "REJECTED":
        raise ram_error(
            "ResourceShareInvitationAlreadyRejectedException",
            f"ResourceShareInvitation {invitation_arn} has already been rejected.",
        )
    if status == "EXPIRED":
        raise ram_error(
            "ResourceShareInvitationExpiredException",
            f"ResourceShareInvitation {invitation_arn} has expired.",
        )


def answer_invitation(
    receiver: str, region: str, invitation_arn: str, answer: str, client_token: str | None
) -> dict[str, Any]:
    """Accept (``ACCEPTED``) or reject (``REJECTED``) an invitation the receiver holds."""
    operation = "Accept" if answer == "ACCEPTED" else "Reject"
    _check_arns([invitation_arn], _INVITATION_ARN)
    with _LOCK:
        state = receiver_state(_backend(receiver, region))
        if client_token and client_token in state.tokens:
            done_operation, done_arn, response = state.tokens[client_token]
            if (done_operation, done_arn) != (operation, invitation_arn):
                raise ram_error(
                    "IdempotentParameterMismatchException",
                    f"The client token {client_token} was already used with other parameters.",
                )
            return response
        expire_invitations(receiver, region)
        invitation = _invitation(state, invitation_arn)
        now = controls.now()
        status = invitation.status(now)
        if status == "ACCEPTED":
            raise ram_error(
                "ResourceShareInvitationAlreadyAcceptedException",
                f"ResourceShareInvitation {invitation_arn} has already been accepted.",
            )
        _refuse_closed(invitation_arn, status)
        invitation.answer = answer
        share = _find_share(invitation.sender, region, invitation.share_arn)
        if share is not None:
            if answer == "ACCEPTED":
                _associate(share, receiver, ASSOCIATED)
            else:
                _disassociate(share, receiver)
        token = client_token or str(uuid.uuid4())
        response = {"resourceShareInvitation": invitation.describe(now), "clientToken": token}
        state.tokens[token] = (operation, invitation_arn, response)
        return response


def _share_filters(
    shares: list[Any], share_arns: Sequence[str], status: str | None, name: str | None
) -> list[dict[str, Any]]:
    return [
        share.describe()
        for share in shares
        if (not share_arns or share.arn in share_arns)
        and (status is None or share.status == status)
        and (name is None or share.name == name)
    ]


def _owner_and_shares(params: dict[str, Any]) -> tuple[str, list[str]]:
    """The ``resourceOwner`` (SELF or OTHER-ACCOUNTS) and ``resourceShareArns`` asked for."""
    owner = params.get("resourceOwner")
    if owner not in RESOURCE_OWNERS:
        raise ram_error(
            "InvalidParameterException",
            f"{owner} is not a valid resource owner. "
            "Specify either SELF or OTHER-ACCOUNTS and try again.",
        )
    share_arns = list(params.get("resourceShareArns") or [])
    _check_arns(share_arns, _SHARE_ARN)
    return str(owner), share_arns


def get_resource_shares(
    caller: str, region: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    owner, share_arns = _owner_and_shares(params)
    if owner == "SELF":
        shares = list(_backend(caller, region).resource_shares)
    else:
        shares = _incoming_shares(caller, region)
    described = _share_filters(
        shares, share_arns, params.get("resourceShareStatus"), params.get("name")
    )
    return _page(described, params.get("maxResults"), params.get("nextToken"), strict_max=False)


def resource_type_of(arn: str) -> str:
    """RAM's ``service:Type`` of a resource ARN (``glue:Table`` for a Glue table)."""
    parts = arn.split(":", 5)
    kind = re.split(r"[/:]", parts[5], maxsplit=1)[0]
    return f"{parts[2]}:{''.join(piece.capitalize() for piece in kind.split('-'))}"


def list_resources(
    caller: str, region: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    owner, share_arns = _owner_and_shares(params)
    principal = params.get("principal")
    resource_type = str(params.get("resourceType") or "").lower()
    resource_arns = params.get("resourceArns") or []
    if owner == "SELF":
        shares = [s for s in _backend(caller, region).resource_shares if s.status == "ACTIVE"]
        shares = [s for s in shares if principal is None or principal in s.principals]
    else:
        shares = [
            s
            for s in _incoming_shares(caller, region)
            if principal is None or s.account_id == principal
        ]
    resources = []
    for share in shares:
        if share_arns and share.arn not in share_arns:
            continue
        for arn in share.resource_arns:
            if resource_arns and arn not in resource_arns:
                continue
            if resource_type and resource_type_of(arn).lower() != resource_type:
                continue
            resources.append(_resource_entry(share, arn))
    return _page(resources, params.get("maxResults"), params.get("nextToken"), strict_max=False)


def _resource_entry(share: Any, arn: str) -> dict[str, Any]:
    """One ``Resource`` of a share, as ListResources and ListPendingInvitationResources show it."""
    times: dict[str, datetime] = share.__dict__.get("meshgov_resource_times", {})
    created = times.get(arn, share.creation_time)
    return {
        "arn": arn,
        "type": resource_type_of(arn),
        "resourceShareArn": share.arn,
        "status": "AVAILABLE",
        "creationTime": unix_time(created),
        "lastUpdatedTime": unix_time(created),
        "resourceRegionScope": "REGIONAL",
    }


REGION_SCOPES = ("ALL", "REGIONAL", "GLOBAL")


def list_pending_invitation_resources(
    receiver: str, region: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    """What the share behind a ``PENDING`` invitation holds, as the receiver may see it."""
    invitation_arn = params.get("resourceShareInvitationArn")
    if not invitation_arn:
        raise ram_error(
            "MissingRequiredParameterException",
            "The request is missing the required parameter resourceShareInvitationArn.",
        )
    _check_arns([str(invitation_arn)], _INVITATION_ARN)
    scope = params.get("resourceRegionScope") or "ALL"
    if scope not in REGION_SCOPES:
        raise ram_error("InvalidParameterException", f"{scope} is not a valid resourceRegionScope")
    with _LOCK:
        expire_invitations(receiver, region)
        state = receiver_state(_backend(receiver, region))
        invitation = _invitation(state, str(invitation_arn))
        status = invitation.status(controls.now())
        _refuse_closed(str(invitation_arn), status)
        if status != "PENDING":
            raise ram_error(
                "InvalidParameterException",
                f"ResourceShareInvitation {invitation_arn} is {status}, not PENDING.",
            )
        share = _find_share(invitation.sender, region, invitation.share_arn)
        resources = []
        if share is not None and share.status == "ACTIVE" and scope != "GLOBAL":
            resources = [_resource_entry(share, arn) for arn in share.resource_arns]
    return _page(resources, params.get("maxResults"), params.get("nextToken"), strict_max=False)


# --- moto patches ------------------------------------------------------------------------------


def _params(response: Any) -> dict[str, Any]:
    params = response.request_params
    return params if isinstance(params, dict) else {}


def response_get_resource_share_invitations(self: Any) -> str:
    params = _params(self)
    invitations, token = get_resource_share_invitations(
        self.current_account,
        self.region,
        params.get("resourceShareInvitationArns") or [],
        params.get("resourceShareArns") or [],
        params.get("maxResults"),
        params.get("nextToken"),
    )
    result: dict[str, Any] = {"resourceShareInvitations": invitations}
    if token:
        result["nextToken"] = token
    return json.dumps(result)


def _answer(self: Any, status: str) -> str:
    params = _params(self)
    return json.dumps(
        answer_invitation(
            self.current_account,
            self.region,
            str(params.get("resourceShareInvitationArn") or ""),
            status,
            params.get("clientToken"),
        )
    )


def response_accept_resource_share_invitation(self: Any) -> str:
    return _answer(self, "ACCEPTED")


def response_reject_resource_share_invitation(self: Any) -> str:
    return _answer(self, "REJECTED")


def response_get_resource_shares(self: Any) -> str:
    shares, token = get_resource_shares(self.current_account, self.region, _params(self))
    result: dict[str, Any] = {"resourceShares": shares}
    if token:
        result["nextToken"] = token
    return json.dumps(result)


def response_list_resources(self: Any) -> str:
    resources, token = list_resources(self.current_account, self.region, _params(self))
    result: dict[str, Any] = {"resources": resources}
    if token:
        result["nextToken"] = token
    return json.dumps(result)


def response_list_pending_invitation_resources(self: Any) -> str:
    resources, token = list_pending_invitation_resources(
        self.current_account, self.region, _params(self)
    )
    result: dict[str, Any] = {"resources": resources}
    if token:
        result["nextToken"] = token
    return json.dumps(result)


def _inviting_accounts(method: Any) -> Any:
    """CreateResourceShare: account principals are invited (or, inside the organization with
    sharing enabled, associated at once) like the receivers of a Lake Formation share."""

    def wrapper(self: Any, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = method(self, **kwargs)
        share = _find_share(
            self.account_id, self.region_name, result["resourceShare"]["resourceShareArn"]
        )
        if share is None:
            return result
        with _LOCK:
            accounts = [
                principal
                for principal in list(share.principals)
                if _ACCOUNT.match(str(principal)) and principal != self.account_id
            ]
            for account in accounts:
                share.principals.remove(account)
            principal_status(share)  # the other principals, as moto associated them
            for account in dict.fromkeys(accounts):
                associate_receiver(share, account)
        return result

    return wrapper


def _with_principal_status(method: Any) -> Any:
    def wrapper(
        self: Any,
        association_type: str | None,
        association_status: str | None,
        resource_share_arns: list[str],
        resource_arn: str | None,
        principal: str | None,
    ) -> dict[str, Any]:
        result: dict[str, Any] = method(
            self, association_type, None, resource_share_arns, resource_arn, principal
        )
        shares = {share.arn: share for share in self.resource_shares}
        associations = []
        for association in result["resourceShareAssociations"]:
            share = shares.get(association["resourceShareArn"])
            if association["associationType"] == "PRINCIPAL" and share is not None:
                entity = association["associatedEntity"]
                if re.fullmatch(r"\d{12}", entity):
                    expire_invitations(entity, self.region_name)
                association["status"] = principal_status(share).get(entity, ASSOCIATED)
                association["external"] = not controls.shares_without_invitation(
                    self.account_id, entity
                )
                if entity not in share.principals:
                    continue
            if association_status is None or association["status"] == association_status:
                associations.append(association)
        return {"resourceShareAssociations": associations}

    return wrapper


def install() -> None:
    response = ResourceAccessManagerResponse
    patch_attr(response, "get_resource_share_invitations", response_get_resource_share_invitations)
    patch_attr(
        response, "accept_resource_share_invitation", response_accept_resource_share_invitation
    )
    patch_attr(
        response, "reject_resource_share_invitation", response_reject_resource_share_invitation
    )
    patch_attr(response, "get_resource_shares", response_get_resource_shares)
    patch_attr(response, "list_resources", response_list_resources)
    patch_attr(
        response, "list_pending_invitation_resources", response_list_pending_invitation_resources
    )
    wrap_method(ResourceAccessManagerBackend, "create_resource_share", _inviting_accounts)
    wrap_method(
        ResourceAccessManagerBackend, "get_resource_share_associations", _with_principal_status
    )
    for operation in NEW_ROUTES:
        ram_urls.url_paths.setdefault(f"{{0}}/{operation}$", ResourceAccessManagerResponse.dispatch)
