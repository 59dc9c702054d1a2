"""The pure decisions of meshgov.catalog.locations: which bucket, and what to (de)register."""

from __future__ import annotations

import pytest

from meshgov.catalog.locations import LocationRefusedError, bucket_of, plan

MINE = "arn:aws:iam::111111111111:role/meshgov-central-data-location-eu-west-1"
THEIRS = "arn:aws:iam::111111111111:role/platform"


@pytest.mark.parametrize(
    ("location", "bucket"),
    [
        ("s3://producer-data/sales/orders/", "producer-data"),
        ("s3://producer-data", "producer-data"),
        ("s3://a.b-c/x", "a.b-c"),
        ("", None),
        (None, None),
    ],
)
def test_the_bucket_of_a_table_location(location: str | None, bucket: str | None) -> None:
    assert bucket_of(location) == bucket


@pytest.mark.parametrize(
    "location",
    ["hdfs://cluster/x", "s3a://producer-data/x", "S3://producer-data/x", "s3://Bad_Bucket/x",
     "s3://ab/x", "s3://a..b/x", "producer-data/x"],
)  # fmt: skip
def test_what_is_not_a_registrable_s3_location_is_refused(location: str) -> None:
    with pytest.raises(LocationRefusedError):
        bucket_of(location)


def test_missing_locations_are_registered_and_unused_ones_of_meshgov_deregistered() -> None:
    registered = {"arn:aws:s3:::used": MINE, "arn:aws:s3:::unused": MINE}
    decided = plan({"arn:aws:s3:::used", "arn:aws:s3:::new"}, registered, MINE, complete=True)
    assert decided.register == ("arn:aws:s3:::new",)
    assert decided.deregister == ("arn:aws:s3:::unused",)
    assert decided.foreign == ()


def test_nothing_is_deregistered_from_an_incomplete_view() -> None:
    registered = {"arn:aws:s3:::unused": MINE}
    assert plan(set(), registered, MINE, complete=False).deregister == ()


def test_someone_elses_registration_is_never_deregistered_and_reported_when_used() -> None:
    registered = {"arn:aws:s3:::theirs": THEIRS, "arn:aws:s3:::used": THEIRS}
    decided = plan({"arn:aws:s3:::used"}, registered, MINE, complete=True)
    assert decided.deregister == ()
    assert decided.register == ()
    assert decided.foreign == ("arn:aws:s3:::used",)


def test_the_data_location_role_must_be_a_role_of_the_central_account() -> None:
    from meshgov.errors import SettingsInvalidError
    from meshgov.settings import CatalogSettings

    env = {
        "AWS_REGION": "eu-west-1",
        "CENTRAL_ACCOUNT_ID": "111111111111",
        "AUDIT_TABLE_NAME": "audit",
        "LEDGER_TABLE_NAME": "ledger",
        "REGISTRY_TABLE_NAME": "registry",
        "CENTRAL_BUS_NAME": "meshgov",
    }
    assert CatalogSettings.from_env({**env, "DATA_LOCATION_ROLE_ARN": MINE}).data_location_role_arn
    assert CatalogSettings.from_env(env).data_location_role_arn == ""  # not wired: none registered
    for wrong in ("arn:aws:iam::222222222222:role/x", "arn:aws-cn:iam::111111111111:role/x", "x"):
        with pytest.raises(SettingsInvalidError, match="DATA_LOCATION_ROLE_ARN"):
            CatalogSettings.from_env({**env, "DATA_LOCATION_ROLE_ARN": wrong})
