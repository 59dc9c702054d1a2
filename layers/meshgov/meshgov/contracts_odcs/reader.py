"""Reading a contract object from the producer's S3, through its reader role (thin adapter).

One ``GetObject`` per new contract location, never for an unchanged table. It passes
``ExpectedBucketOwner`` = the producer account: S3 refuses with 403 when the bucket belongs to
another account (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html),
so a contract is only ever read from the producer's own bucket. The reader role may read only the
contracts prefix its member stack names (template.yaml: ``ContractsPrefix`` in the
contracts bucket).
An object over :data:`MAX_CONTRACT_BYTES` is refused from its ``ContentLength``, unread.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.aws.session import error_code, error_text
from meshgov.contracts_odcs.document import MAX_CONTRACT_BYTES, ContractRefusedError
from meshgov.errors import SourceUnavailableError

_S3_URL = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.+)$")
_MISSING = {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}
_REFUSED = {"AccessDenied", "403", "AllAccessDisabled"}


def parse_location(location: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``; ``ContractLocationInvalid`` otherwise."""
    match = _S3_URL.match(location.strip())
    if match is None:
        raise ContractRefusedError(
            "ContractLocationInvalid", f"contract location {location!r} is not s3://bucket/key"
        )
    return match.group(1), match.group(2)


def read_contract(s3: Any, location: str, owner_account: str) -> bytes:
    """The bytes of the contract at ``location``, in ``owner_account``'s bucket."""
    bucket, key = parse_location(location)
    try:
        response = s3.get_object(Bucket=bucket, Key=key, ExpectedBucketOwner=owner_account)
    except ClientError as exc:
        code = error_code(exc)
        if code in _MISSING:
            raise ContractRefusedError(
                "ContractMissing", f"no contract object at {location}: {error_text(exc)}"
            ) from exc
        if code in _REFUSED:
            raise ContractRefusedError(
                "ContractUnreadable",
                f"contract {location} cannot be read by the reader role of {owner_account} "
                f"(outside its contracts prefix, or a bucket of another account): "
                f"{error_text(exc)}",
            ) from exc
        raise SourceUnavailableError(f"cannot read contract {location}: {error_text(exc)}") from exc
    except BotoCoreError as exc:
        raise SourceUnavailableError(f"cannot read contract {location}: {exc}") from exc
    body = response["Body"]
    try:
        size = int(response.get("ContentLength") or 0)
        if size > MAX_CONTRACT_BYTES:
            raise ContractRefusedError(
                "ContractTooLarge",
                f"contract {location} is {size} bytes, over the {MAX_CONTRACT_BYTES} meshgov reads",
            )
        raw = bytes(body.read(MAX_CONTRACT_BYTES + 1))
    finally:
        body.close()
    if len(raw) > MAX_CONTRACT_BYTES:
        raise ContractRefusedError(
            "ContractTooLarge",
            f"contract {location} is over the {MAX_CONTRACT_BYTES} bytes meshgov reads",
        )
    return raw
