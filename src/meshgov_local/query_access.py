"""What lets a consumer's query engine (``meshgov query``) call Lake Formation's application
integration APIs in the local mesh, as on AWS: the tables' owner allows external data filtering
for the consumer accounts and the engine's session tag, and the engine acts as the principal in
a role session carrying that tag.

"These API operations are disabled by default": the owner sets ``AllowExternalDataFiltering``,
lists the caller's account in ``ExternalDataFilteringAllowList`` and the tag values in
``AuthorizedSessionTagValueList``; the engine's role session carries the session tag
``LakeFormationAuthorizedCaller`` with one of them
(https://docs.aws.amazon.com/lake-formation/latest/dg/permitting-third-party-call.html,
https://docs.aws.amazon.com/lake-formation/latest/dg/register-query-engine.html). On AWS the
role's trust policy must also allow ``sts:TagSession``
(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import boto3

from meshgov.aws.arns import Arns
from meshgov.aws.session import new_session
from meshgov_local.accounts import CLIENT_CONFIG

if TYPE_CHECKING:
    from meshgov_cli.query.engine import Credentials, QueryResult

# The session tag an engine's role session carries so that a table's owner lets it call the
# application integration APIs (AllowExternalDataFiltering, AuthorizedSessionTagValueList;
# https://docs.aws.amazon.com/lake-formation/latest/dg/permitting-third-party-call.html).
AUTHORIZED_CALLER_TAG = "LakeFormationAuthorizedCaller"
SESSION_TAG_VALUE = "meshgov-query"


def allow_query_engine(
    lakeformation: Any, accounts: Sequence[str], tag_value: str = SESSION_TAG_VALUE
) -> None:
    """As the tables' owner (``lakeformation``: a client of its data lake administrator), let
    engines of ``accounts`` with session tag ``tag_value`` filter its data. PutDataLakeSettings
    replaces every setting, so the current ones are read and kept."""
    settings = dict(lakeformation.get_data_lake_settings()["DataLakeSettings"])
    allowed = {
        str(p.get("DataLakePrincipalIdentifier"))
        for p in settings.get("ExternalDataFilteringAllowList") or []
    } | set(accounts)
    values = list(
        dict.fromkeys([*(settings.get("AuthorizedSessionTagValueList") or []), tag_value])
    )
    settings.update(
        AllowExternalDataFiltering=True,
        ExternalDataFilteringAllowList=[
            {"DataLakePrincipalIdentifier": account} for account in sorted(allowed)
        ],
        AuthorizedSessionTagValueList=values,
    )
    lakeformation.put_data_lake_settings(DataLakeSettings=settings)


def engine_session(
    sts: Any, arns: Arns, account: str, role: str, region: str, tag_value: str = SESSION_TAG_VALUE
) -> boto3.Session:
    """``role``'s own session, assumed with ``sts`` (a client of its account's administrator, as
    someone of the account acts as one of its roles), tagged as the query engine."""
    credentials = sts.assume_role(
        RoleArn=arns.iam_role(account, role),
        RoleSessionName=f"meshgov-query-{role}"[:64],
        Tags=[{"Key": AUTHORIZED_CALLER_TAG, "Value": tag_value}],
    )["Credentials"]
    return new_session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def query_as(
    client: Callable[[str, str], Any],
    arns: Arns,
    endpoint_url: str | None,
    region: str,
    account: str,
    role: str,
    sql: str,
) -> QueryResult:
    """Run ``sql`` as ``role`` of ``account`` through the engine (``client(account, service)``:
    a client of the account's administrator, who assumes the role). The Glue and Lake Formation
    clients are the role's own tagged session; S3 is read with the credentials Lake Formation
    vends, and nothing else. Raises the engine's ``QueryError``."""
    from meshgov_cli.query.engine import (  # DuckDB and pyarrow load only here
        S3_READ_CONFIG,
        run_query,
    )

    session = engine_session(client(account, "sts"), arns, account, role, region)

    def s3_for(credentials: Credentials) -> Any:
        vended = new_session(
            aws_access_key_id=str(credentials["AccessKeyId"]),
            aws_secret_access_key=str(credentials["SecretAccessKey"]),
            aws_session_token=str(credentials["SessionToken"]),
            region_name=region,
        )
        return vended.client(
            "s3", endpoint_url=endpoint_url, config=CLIENT_CONFIG.merge(S3_READ_CONFIG)
        )

    return run_query(
        sql,
        glue=session.client("glue", endpoint_url=endpoint_url, config=CLIENT_CONFIG),
        lakeformation=session.client(
            "lakeformation", endpoint_url=endpoint_url, config=CLIENT_CONFIG
        ),
        catalog_id=account,
        s3_for=s3_for,
        region=region,
    )
