"""S3 bucket owner condition (s3_bucket_owner.py): an object request naming another account as
the expected bucket owner is 403 AccessDenied
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from localmesh_support import CENTRAL, PRODUCER, REGION

from meshgov_local.accounts import AccountSessions

BUCKET = "producer-owned"
KEY = "meshgov-contracts/t0.json"


@pytest.fixture
def s3(mesh: AccountSessions) -> object:
    client = mesh.client(PRODUCER, "s3")
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_object(Bucket=BUCKET, Key=KEY, Body=b"{}")
    return client


def _code(call: object, **request: str) -> str:
    with pytest.raises(ClientError) as refused:
        call(Bucket=BUCKET, **request)  # type: ignore[operator]
    return str(refused.value.response["Error"]["Code"])


def test_the_owner_expected_reads_as_without_the_condition(s3: object) -> None:
    got = s3.get_object(Bucket=BUCKET, Key=KEY, ExpectedBucketOwner=PRODUCER)  # type: ignore[attr-defined]
    assert got["Body"].read() == b"{}"
    assert (
        s3.head_object(Bucket=BUCKET, Key=KEY, ExpectedBucketOwner=PRODUCER)[  # type: ignore[attr-defined]
            "ContentLength"
        ]
        == 2
    )


def test_another_owner_expected_is_access_denied_for_get_head_and_put(s3: object) -> None:
    assert _code(s3.get_object, Key=KEY, ExpectedBucketOwner=CENTRAL) == "AccessDenied"  # type: ignore[attr-defined]
    assert _code(s3.head_object, Key=KEY, ExpectedBucketOwner=CENTRAL) == "403"  # type: ignore[attr-defined]
    # refused before the key is looked up: a missing key is not told apart (no 404)
    assert _code(s3.get_object, Key="absent", ExpectedBucketOwner=CENTRAL) == "AccessDenied"  # type: ignore[attr-defined]
    # a write naming the wrong owner leaves nothing behind
    assert (
        _code(s3.put_object, Key="other", Body="x", ExpectedBucketOwner=CENTRAL) == "AccessDenied"
    )  # type: ignore[attr-defined]
    assert _code(s3.head_object, Key="other") == "404"  # type: ignore[attr-defined]
