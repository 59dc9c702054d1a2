"""Acting as an account of the local mesh, the way real cross-account code does: sts.assume_role.

moto maps the credentials that AssumeRole returns to the role's account, in-process (``mock_aws``)
and in server mode alike, so this is the same code path as real access. Every account gets a
bootstrap role, ``meshgov-local-admin``, written straight into moto's IAM backend by
:func:`meshgov_local.emulator.iam_bootstrap.ensure_admin_role` (the stand-in for the
administrator access a real account would already have).
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from meshgov.aws.arns import Arns
from meshgov.aws.session import new_session

ADMIN_ROLE_NAME = "meshgov-local-admin"
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 2})


class AccountSessions:
    """boto3 sessions for each account of the mesh, obtained with sts.assume_role.

    Sessions share botocore's loader (:func:`meshgov.aws.session.new_session`): service models
    are read once per process, not once per account and role. Clients are cached per instance.
    """

    def __init__(self, region: str, endpoint_url: str | None = None) -> None:
        self.region = region
        # The partition of the mesh's Region, as the functions resolve it (meshgov.aws.arns).
        self.arns = Arns.for_region(region)
        self.endpoint_url = endpoint_url
        self._operator = new_session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - fake credentials for moto
            region_name=region,
        )
        self._sessions: dict[str, boto3.Session] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}

    def session(self, account_id: str, role_name: str = ADMIN_ROLE_NAME) -> boto3.Session:
        key = f"{account_id}/{role_name}"
        if key not in self._sessions:
            sts = self._operator.client("sts", endpoint_url=self.endpoint_url)
            creds = sts.assume_role(
                RoleArn=self.arns.iam_role(account_id, role_name),
                RoleSessionName="meshgov-local",
            )["Credentials"]
            self._sessions[key] = new_session(
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
                region_name=self.region,
            )
        return self._sessions[key]

    def role_session(self, account_id: str, role_name: str) -> boto3.Session:
        """A session of ``role_name``, assumed by the account's administrator: how someone of
        the account acts as one of its roles (a consumer's ``analyst``), whose trust policy
        names the account, not the operator. Not cached: the role's credentials are fresh."""
        admin = self.client(account_id, "sts")
        creds = admin.assume_role(
            RoleArn=self.arns.iam_role(account_id, role_name), RoleSessionName=role_name[:64]
        )["Credentials"]
        return new_session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.region,
        )

    def client(self, account_id: str, service: str, role_name: str = ADMIN_ROLE_NAME) -> Any:
        key = (account_id, service, role_name)
        if key not in self._clients:
            self._clients[key] = self.session(account_id, role_name).client(
                service,
                endpoint_url=self.endpoint_url,
                config=CLIENT_CONFIG,  # type: ignore[call-overload]
            )
        return self._clients[key]
