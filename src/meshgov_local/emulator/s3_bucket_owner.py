"""S3 bucket owner condition on object operations (moto 5.2.5 ignores it).

AWS: a request carrying the expected bucket owner (``ExpectedBucketOwner``, the header
``x-amz-expected-bucket-owner``) whose bucket belongs to another account fails with HTTP 403
``AccessDenied``; "bucket owner condition is available for all S3 object operations"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html). meshgov's
contract reader relies on it (:mod:`meshgov.contracts_odcs.reader`: ``GetObject`` with
``ExpectedBucketOwner`` = the producer account), so that a contract is never read from a bucket
another account owns.

Emulated here for every object request (``GetObject``, ``HeadObject``, ``PutObject``,
``DeleteObject`` and the object sub-resources: moto routes them all through
``S3Response._key_response``), checked before the object is looked up: a wrong owner is
refused whether the key exists or not. A bucket that does not exist is left to moto
(``NoSuchBucket``). Not emulated: ``x-amz-source-expected-bucket-owner`` of ``CopyObject`` and
the bucket operations (meshgov sends neither with an expected owner).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.s3.exceptions import S3AccessDeniedError
from moto.s3.models import s3_backends
from moto.s3.responses import S3Response

from ._patching import wrap_method

HEADER = "x-amz-expected-bucket-owner"


def bucket_owner(bucket_name: str) -> str | None:
    """The account owning ``bucket_name`` (bucket names are global), None when none does."""
    found = s3_backends.bucket_accounts.get(bucket_name)
    return found[1] if found else None


def refused(expected: str | None, bucket_name: str) -> bool:
    """True when the request names an expected owner and the existing bucket has another."""
    if not expected:
        return False
    owner = bucket_owner(bucket_name)
    return owner is not None and owner != expected.strip()


def _checking_owner(original: Callable[..., Any]) -> Callable[..., Any]:
    def _key_response(self: S3Response, request: Any, full_url: str) -> Any:
        bucket_name = self.parse_bucket_name_from_url(request, full_url)
        if refused(request.headers.get(HEADER), bucket_name):
            if request.method == "HEAD":
                # a HEAD response has no body: S3's client sees the bare status, 403
                # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html)
                return 403, {}, ""
            raise S3AccessDeniedError()  # 403 AccessDenied
        return original(self, request, full_url)

    return _key_response


def install() -> None:
    wrap_method(S3Response, "_key_response", _checking_owner)
