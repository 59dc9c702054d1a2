"""Names of the lineage graph's nodes, and which account a dataset belongs to (pure).

A node is one string, the same whoever names it:

- a Glue table: its ARN, ``arn:<partition>:glue:<region>:<account>:table/<database>/<table>``,
  lower-cased names (Glue stores names in lower case). OpenLineage names a Glue dataset with
  namespace ``arn:aws:glue:<region>:<account>`` and name ``table/<database>/<table>``
  (openlineage-python 1.54.0, ``openlineage.client.naming.dataset.AWSGlue``; the naming spec,
  https://openlineage.io/docs/spec/naming/): namespace ``:`` name is that ARN. So a producer's
  table, its central copy and a consumer's resource link are three Glue table nodes, told apart
  by their account (:func:`describe`).
- any other dataset: ``<namespace>/<name>`` (``s3://bucket/path``, ``postgres://host:5432/db.t``).
- a job: ``job:<namespace>/<name>``.
- a consumer's principal: its IAM role ARN.

Which account owns a dataset is read from its name, never from the event's word: a Glue dataset
belongs to the account in its namespace. Nothing else can be attributed to an account by its name
(an S3 bucket's owner is not in it), so meshgov records outputs only as Glue tables of the account
that sent the event (:mod:`meshgov.lineage.events`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

GLUE_NAMESPACE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):glue:(?P<region>[a-z0-9-]+):(?P<account>\d{12})$"
)
GLUE_NAME = re.compile(r"^table/(?P<database>[^/]+)/(?P<table>[^/]+)$")
GLUE_TABLE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):glue:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"table/(?P<database>[^/]+)/(?P<table>[^/]+)$"
)
ROLE = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/.+$")
JOB_PREFIX = "job:"


@dataclass(frozen=True)
class GlueTable:
    """A Glue table node, read back from its ARN."""

    partition: str
    region: str
    account: str
    database: str
    table: str

    @property
    def arn(self) -> str:
        return (
            f"arn:{self.partition}:glue:{self.region}:{self.account}:"
            f"table/{self.database}/{self.table}"
        )

    @property
    def name(self) -> str:
        return f"{self.database}.{self.table}"

    def moved(self, account: str, database: str | None = None) -> GlueTable:
        """The table of the same name in another account's catalog (and database)."""
        return GlueTable(
            self.partition, self.region, account, database or self.database, self.table
        )


def glue_table(node: str) -> GlueTable | None:
    """The Glue table a node names, if it names one."""
    found = GLUE_TABLE.match(node)
    if found is None:
        return None
    return GlueTable(
        found["partition"], found["region"], found["account"], found["database"], found["table"]
    )


def dataset_node(namespace: str, name: str) -> str:
    """The node of an OpenLineage dataset (Glue datasets as their table ARN, lower-cased)."""
    glue, table = GLUE_NAMESPACE.match(namespace), GLUE_NAME.match(name)
    if glue is not None and table is not None:
        return f"{namespace}:table/{table['database'].lower()}/{table['table'].lower()}"
    return f"{namespace.rstrip('/')}/{name.lstrip('/')}"


def job_node(namespace: str, name: str) -> str:
    return f"{JOB_PREFIX}{namespace}/{name}"


def dataset_account(namespace: str, name: str) -> str | None:
    """The account a dataset belongs to, when its name says (a Glue table), else None."""
    glue, table = GLUE_NAMESPACE.match(namespace), GLUE_NAME.match(name)
    return glue["account"] if glue is not None and table is not None else None


def describe(node: str, central_account: str, producers: Mapping[str, str]) -> str:
    """What a node is, for people: producer table, central table, table (another account's,
    e.g. a consumer's resource link or its own), job, principal or dataset."""
    table = glue_table(node)
    if table is not None:
        if table.account == central_account:
            return "central table"
        return "producer table" if table.account in producers else "table"
    if node.startswith(JOB_PREFIX):
        return "job"
    if ROLE.match(node):
        return "principal"
    return "dataset"
