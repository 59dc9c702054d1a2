"""The ARNs meshgov builds, in the partition of the Region it runs in: the one home of their form.

An ARN is ``arn:<partition>:<service>:<region>:<account>:<resource>``, and "each AWS account is
scoped to one partition": ``aws`` (AWS Regions), ``aws-cn`` (China Regions), ``aws-us-gov``
(AWS GovCloud (US) Regions)
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html,
https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/using-govcloud-arns.html,
https://docs.amazonaws.cn/general/latest/gr/ARNs.md). A literal ``arn:aws:`` is
therefore wrong in China and GovCloud.

Lambda tells a function its Region (``AWS_REGION``), not its partition. The partition is the one
whose Regions match that Region in botocore's endpoint data (``partitions[].regionRegex``,
``Session.get_partition_for_region``): the same data the SDK uses to reach the Region's endpoints,
so no call is needed. The settings (:mod:`meshgov.settings`) resolve it once at the handler's
entry and domain code receives an :class:`Arns`; nothing here reads the environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, ...: what an ARN's partition field may hold.
PARTITION = r"aws(?:-[a-z]+)*"

# IAM role names: 1-64 characters, unique within the account ("names must be unique within the
# account"; IAM is global, so one account's roles are the same in every Region)
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html,
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
ROLE_NAME_MAX = 64
_ROLE_NAME = re.compile(r"^[A-Za-z0-9_+=,.@-]{1,64}$")


@lru_cache(maxsize=32)
def partition_for_region(region: str) -> str:
    """``eu-west-1`` -> ``aws``, ``cn-north-1`` -> ``aws-cn``, ``us-gov-west-1`` -> ``aws-us-gov``.

    Raises ``ValueError`` for a Region no partition claims (a typo, or a Region newer than the
    installed botocore whose name fits no partition's pattern): an ARN must never be guessed.
    """
    # Imported here: the contracts import this module for PARTITION alone, without the SDK.
    from botocore.exceptions import UnknownRegionError

    from meshgov.aws.session import new_session  # shares the warm container's data loader

    try:
        return str(new_session(region_name=region or None).get_partition_for_region(region))
    except UnknownRegionError as exc:
        raise ValueError(f"Region {region!r} belongs to no AWS partition botocore knows") from exc


def partition_of(arn: str) -> str:
    """``arn:aws-cn:iam::123456789012:role/x`` -> ``aws-cn`` (``""`` when not an ARN)."""
    parts = arn.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "arn" else ""


def regional_role_name(base: str, region: str) -> str:
    """``meshgov-catalog-reader`` in ``eu-west-1`` -> ``meshgov-catalog-reader-eu-west-1``.

    A role meshgov creates in every member stack is named per Region: role names are unique per
    account across all Regions, so a fixed name would stop the same account's stack in a second
    Region (template.yaml names ``CatalogReaderRole`` ``${ReaderRoleName}-${AWS::Region}``).
    """
    name = f"{base}-{region}"
    if not _ROLE_NAME.match(name):
        raise ValueError(
            f"role name {name!r} ({len(name)} characters) is not a valid IAM role name: at most "
            f"{ROLE_NAME_MAX} letters, digits and _+=,.@- ({base!r} plus '-' and the Region)"
        )
    return name


@dataclass(frozen=True)
class Arns:
    """Builds ARNs in one partition and Region (the function's own)."""

    partition: str
    region: str

    @classmethod
    def for_region(cls, region: str) -> Arns:
        return cls(partition_for_region(region), region)

    def arn(self, service: str, account_id: str, resource: str, *, regional: bool = True) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>`` (IAM and S3 omit the
        Region: ``regional=False``)."""
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{account_id}:{resource}"

    def glue_database(self, account_id: str, database: str) -> str:
        return self.arn("glue", account_id, f"database/{database}")

    def glue_table(self, account_id: str, database: str, table: str) -> str:
        return self.arn("glue", account_id, f"table/{database}/{table}")

    def iam_role(self, account_id: str, name: str) -> str:
        return self.arn("iam", account_id, f"role/{name}", regional=False)

    def event_bus(self, account_id: str, name: str) -> str:
        return self.arn("events", account_id, f"event-bus/{name}")
