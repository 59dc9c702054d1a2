"""Accounts of the local mesh: adding a producer is a change here, nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class MemberKind(StrEnum):
    PRODUCER = "producer"
    CONSUMER = "consumer"


@dataclass(frozen=True)
class MemberAccount:
    """A member (producer and/or consumer) account of the mesh."""

    account_id: str
    name: str
    kind: MemberKind
    # Producers own a data domain; its name prefixes their central databases.
    domain: str | None = None


@dataclass(frozen=True)
class MeshConfig:
    region: str = "eu-west-1"
    central_account: str = "111111111111"
    members: tuple[MemberAccount, ...] = field(
        default_factory=lambda: (
            MemberAccount("222222222222", "producer", MemberKind.PRODUCER, domain="sales"),
            MemberAccount("333333333333", "consumer", MemberKind.CONSUMER),
        )
    )
    # The name every member gives the role central assumes to read its catalog (template.yaml).
    reader_role_name: str = "meshgov-catalog-reader"

    @property
    def producers(self) -> tuple[MemberAccount, ...]:
        return tuple(m for m in self.members if m.kind is MemberKind.PRODUCER)

    @property
    def consumers(self) -> tuple[MemberAccount, ...]:
        return tuple(m for m in self.members if m.kind is MemberKind.CONSUMER)

    @property
    def all_accounts(self) -> tuple[str, ...]:
        return (self.central_account, *(m.account_id for m in self.members))

    def producer_domains(self) -> dict[str, str]:
        """account id -> domain, as the central stack's ``ProducerDomains`` parameter carries it."""
        return {m.account_id: m.domain for m in self.producers if m.domain}
