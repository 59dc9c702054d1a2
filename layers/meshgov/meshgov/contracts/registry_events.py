"""The registry's events: the platform team adds or removes a member account (issue 16).

The platform team puts ``Member Add Requested`` or ``Member Remove Requested`` (source
``meshgov.registry``) on the central bus - ``meshgov accounts add|remove`` does - and the central
access function checks, records and audits it (:mod:`meshgov.registry.members`). Only an event
whose EventBridge ``account`` is the central account is obeyed: the central bus admits every
member account (so producers can forward their catalog events), and a member must not register
itself or remove another.

A producer owns a data domain: the prefix of its central databases (``<domain>_<database>``,
docs/adr/0003-central-naming.md). So a domain holds no underscore and is a name Glue and Athena
accept in lower case (:data:`DOMAIN_PATTERN`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

REGISTRY_SOURCE = "meshgov.registry"
MEMBER_ADD_REQUESTED = "Member Add Requested"
MEMBER_REMOVE_REQUESTED = "Member Remove Requested"

ACCOUNT_PATTERN = r"^\d{12}$"
# Lower-case ASCII letter first, then letters and digits, at most 32: the first underscore of a
# central database name then always separates domain from database (ADR 0003).
DOMAIN_PATTERN = r"^[a-z][a-z0-9]{0,31}$"
# The longest grace a removal may give a producer's consumers before its products go.
MAX_GRACE_DAYS = 90
DEFAULT_GRACE_DAYS = 7


class MemberKind(StrEnum):
    """What a member account is to the mesh (an account that is both registers as producer)."""

    PRODUCER = "producer"
    CONSUMER = "consumer"


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class MemberAddDetail(_Contract):
    """Register ``account``: a producer with its ``domain``, or a consumer (no domain)."""

    account: str = Field(pattern=ACCOUNT_PATTERN)
    kind: MemberKind
    domain: str | None = Field(default=None, pattern=DOMAIN_PATTERN)

    @model_validator(mode="after")
    def _domain_for_producers_only(self) -> Self:
        if self.kind is MemberKind.PRODUCER and not self.domain:
            raise ValueError("a producer is registered with its data domain (domain)")
        if self.kind is MemberKind.CONSUMER and self.domain:
            raise ValueError("a consumer owns no data domain: register it without one")
        return self


class MemberRemoveDetail(_Contract):
    """Remove ``account``; ``force`` even while consumers hold grants on its products (or it
    holds grants as a consumer). A producer's products are unpublished ``grace_days`` later."""

    account: str = Field(pattern=ACCOUNT_PATTERN)
    force: bool = False
    grace_days: int = Field(default=DEFAULT_GRACE_DAYS, alias="graceDays", ge=0, le=MAX_GRACE_DAYS)
