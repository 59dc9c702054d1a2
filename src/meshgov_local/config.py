"""Accounts of the local mesh: adding a producer is a change here, nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from meshgov.aws.arns import regional_role_name


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
    # A producer's S3 bucket holding its published data (the tests' s3://producer-data): the
    # producer's own, which the local mesh creates before the member stack, whose
    # DataBucketName parameter it is (the stack then owns its bucket policy).
    data_bucket: str | None = None


@dataclass(frozen=True)
class MeshConfig:
    region: str = "eu-west-1"
    central_account: str = "111111111111"
    members: tuple[MemberAccount, ...] = field(
        default_factory=lambda: (
            MemberAccount(
                "222222222222",
                "producer",
                MemberKind.PRODUCER,
                domain="sales",
                data_bucket="producer-data",
            ),
            MemberAccount("333333333333", "consumer", MemberKind.CONSUMER),
        )
    )
    # The template's ReaderRoleName: the base of the name every member gives, per Region, the
    # role central assumes to read its catalog (template.yaml).
    reader_role_name: str = "meshgov-catalog-reader"

    @property
    def reader_role(self) -> str:
        """The members' reader role in this mesh's Region, as central assumes it."""
        return regional_role_name(self.reader_role_name, self.region)

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
        """account id -> domain, as the mesh registers its producers (:func:`registration_of`)."""
        return {m.account_id: m.domain for m in self.producers if m.domain}


def registration_of(member: MemberAccount) -> dict[str, str]:
    """The ``Member Add Requested`` detail that registers ``member`` in central's registry."""
    detail = {"account": member.account_id, "kind": member.kind.value}
    if member.domain:
        detail["domain"] = member.domain
    return detail
