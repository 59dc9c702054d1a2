"""AWS Glue Data Quality for Data Catalog tables, which moto 5.2.5 does not implement.

A producer creates a ruleset for one of its tables and starts an evaluation run; the run reads
the table's Parquet objects, evaluates the DQDL rules on them with DuckDB
(:mod:`meshgov_local.dqdl`: a subset, anything else refused by name) and puts
``Data Quality Evaluation Results Available`` on the account's default bus, as AWS does.
Followed documents:

- CreateDataQualityRuleset, https://docs.aws.amazon.com/glue/latest/webapi/API_CreateDataQualityRuleset.html:
  ``Name`` and ``Ruleset`` (a DQDL ruleset, 1 to 65,536 characters) required, ``TargetTable``
  (``TableName``, ``DatabaseName``, ``CatalogId``) optional; ``AlreadyExistsException`` ("Rulesets
  are global and must be unique", https://docs.aws.amazon.com/glue/latest/dg/data-quality-trouble.html),
  ``InvalidInputException`` for a ruleset that cannot be parsed (ibid.: "InvalidInputException
  (status: 400): DataQuality rules cannot be parsed"). Here also for rules the local mesh cannot
  evaluate (the message says so): it never reports a score it did not compute.
- GetDataQualityRuleset: ``Name``, ``Description``, ``Ruleset``, ``TargetTable``, ``CreatedOn``,
  ``LastModifiedOn``; ``EntityNotFoundException``.
- StartDataQualityRulesetEvaluationRun, https://docs.aws.amazon.com/glue/latest/webapi/API_StartDataQualityRulesetEvaluationRun.html:
  ``DataSource`` (``GlueTable``) and ``Role`` ("An IAM role supplied to encrypt the results of the
  run") required, ``RulesetNames`` 1 to 10; returns ``RunId``. The run reads the data as that role:
  here it must exist and IAM must allow it ``s3:ListBucket`` and ``s3:GetObject`` on the table's
  location (else the run ``FAILED`` with the denial in ``ErrorString``). Runs finish at once
  (``SUCCEEDED``), one result per ruleset.
- GetDataQualityRulesetEvaluationRun, https://docs.aws.amazon.com/glue/latest/webapi/API_GetDataQualityRulesetEvaluationRun.html:
  ``RunId``, ``DataSource``, ``Role``, ``Status``, ``ErrorString``, ``StartedOn``, ``CompletedOn``,
  ``RulesetNames``, ``ResultIds``.
- GetDataQualityResult, https://docs.aws.amazon.com/glue/latest/webapi/API_GetDataQualityResult.html:
  ``Score`` ("the ratio of rules that passed to the total number of rules"), ``RuleResults``
  (``Name``, ``Description``, ``EvaluationMessage``, ``Result`` ``PASS|FAIL``,
  ``EvaluatedMetrics``).
- The event, https://docs.aws.amazon.com/glue/latest/dg/data-quality-alerts.html and
  https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-glue-dataquality.html: source
  ``aws.glue-dataquality``, detail ``context`` (``contextType`` ``GLUE_DATA_CATALOG``, ``runId``,
  ``databaseName``, ``tableName``, ``catalogId``), ``resultID``, ``rulesetNames``, ``state``,
  ``score``, ``rulesSucceeded``, ``rulesFailed``, ``rulesSkipped``; here ``state`` is ``SUCCEEDED``
  when every rule passed, else ``FAILED``.

Not emulated: other data sources and catalogs, ``AdditionalDataSources``, recommendation runs,
listing, updating or deleting rulesets, the results' S3 publishing, Lake Formation checks of the
run's role on the table, IAM resource ARNs of rulesets (authorized on the catalog).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.events.models import events_backends
from moto.glue.models import glue_backends
from moto.glue.responses import GlueResponse
from moto.iam.models import iam_backends
from moto.s3.models import FakeKey, s3_backends

from meshgov_cli.query.parquet_objects import OpenedObject
from meshgov_cli.query.s3_data import Column, S3Location, decode_object, partition_values, schema
from meshgov_local import dqdl

from . import iam_enforcement, iam_requests
from ._patching import patch_attr

SOURCE = "aws.glue-dataquality"
DETAIL_TYPE = "Data Quality Evaluation Results Available"
MAX_RULESET = 65_536
MAX_RULESETS_PER_RUN = 10
_ROLE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[^/]+/)*([\w+=,.@-]+)$")


def _error(code: str, message: str) -> JsonRESTError:
    error = JsonRESTError(code, message)
    error.code = 400
    return error


@dataclass
class DataQuality:
    """One account and Region's rulesets, runs and results (kept on its Glue backend)."""

    rulesets: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


_ATTRIBUTE = "_meshgov_data_quality"
_lock = threading.RLock()


def store(account: str, region: str) -> DataQuality:
    backend = glue_backends[account][region]
    with _lock:
        found: DataQuality | None = getattr(backend, _ATTRIBUTE, None)
        if found is None:
            found = DataQuality()
            setattr(backend, _ATTRIBUTE, found)
        return found


def _params(response: Any) -> dict[str, Any]:
    return dict(json.loads(response.body or "{}"))


def _table(account: str, region: str, database: str, name: str) -> dict[str, Any]:
    found = glue_backends[account][region].databases.get(database.lower())
    table = found.tables.get(name.lower()) if found is not None else None
    if table is None:
        raise _error("EntityNotFoundException", f"Table {name} not found in {database}.")
    return dict(table.as_dict())


# --- rulesets -----------------------------------------------------------------------------------


def create_data_quality_ruleset(self: Any) -> ActionResult:
    params = _params(self)
    name, text = str(params.get("Name") or ""), str(params.get("Ruleset") or "")
    if not name or not text or len(text) > MAX_RULESET:
        raise _error("InvalidInputException", "Name and Ruleset (1 to 65536 characters) required.")
    try:
        dqdl.parse_ruleset(text)
    except dqdl.DqdlError as exc:
        raise _error("InvalidInputException", f"DataQuality rules cannot be parsed: {exc}") from exc
    target = params.get("TargetTable")
    if target:
        _table(
            str(target.get("CatalogId") or self.current_account),
            self.region,
            str(target.get("DatabaseName") or ""),
            str(target.get("TableName") or ""),
        )
    found = store(self.current_account, self.region)
    with _lock:
        if name in found.rulesets:
            raise _error("AlreadyExistsException", f"Another ruleset with the name {name} exists.")
        now = utcnow().timestamp()
        found.rulesets[name] = {
            "Name": name,
            "Description": str(params.get("Description") or ""),
            "Ruleset": text,
            **({"TargetTable": dict(target)} if target else {}),
            "CreatedOn": now,
            "LastModifiedOn": now,
        }
    return ActionResult({"Name": name})


def get_data_quality_ruleset(self: Any) -> ActionResult:
    name = str(_params(self).get("Name") or "")
    found = store(self.current_account, self.region).rulesets.get(name)
    if found is None:
        raise _error("EntityNotFoundException", f"Ruleset {name} not found.")
    return ActionResult(dict(found))


# --- runs ---------------------------------------------------------------------------------------


def _read_denial(role_arn: str, location: S3Location, region: str) -> str | None:
    """Why the run's role may not read the table's objects (None: it may)."""
    match = _ROLE.match(role_arn)
    if match is None:
        return f"Role {role_arn} is not a role ARN."
    partition, account, name = match.groups()
    try:
        iam_backends[account][partition].get_role(name)
    except Exception:
        return f"Role {role_arn} does not exist."
    owner = s3_backends.bucket_accounts.get(location.bucket)
    if owner is None:
        return f"The bucket {location.bucket} does not exist."
    bucket_partition, bucket_account = owner
    session = iam_enforcement.RoleSession(account, partition, role_arn, name, access_key="")
    bucket_arn = f"arn:{partition}:s3:::{location.bucket}"
    checks = [
        iam_requests.Check("s3:ListBucket", bucket_arn),
        iam_requests.Check("s3:GetObject", f"{bucket_arn}/{location.prefix}*"),
    ]
    where = iam_requests.Where(bucket_account, region, bucket_partition)
    context = {"s3:resourceaccount": bucket_account, "aws:resourceaccount": bucket_account}
    denial = iam_enforcement.decide(session, "s3", checks, where, context)
    if denial is None:
        return None
    return f"{role_arn} is not authorized to perform {denial.action} on {denial.resource}."


def table_data(table: Mapping[str, Any]) -> pa.Table:
    """Every row of the table: its Parquet objects under its location, with the partition
    columns from Hive-style paths (as :mod:`meshgov_cli.query.s3_data` reads them)."""
    descriptor = table.get("StorageDescriptor") or {}
    location = S3Location.parse(str(descriptor.get("Location") or ""))
    columns = [
        Column(str(c["Name"]).lower(), str(c["Type"])) for c in descriptor.get("Columns") or []
    ]
    keys = [
        Column(str(k["Name"]).lower(), str(k["Type"])) for k in table.get("PartitionKeys") or []
    ]
    every = columns + keys
    owner = s3_backends.bucket_accounts.get(location.bucket)
    if owner is None:
        return schema(every).empty_table()
    bucket = s3_backends[owner[1]][owner[0]].get_bucket(location.bucket)
    parts = []
    for name, key in sorted(bucket.keys.items()):
        leaf = name.rsplit("/", 1)[-1]
        if not isinstance(key, FakeKey) or not name.startswith(location.prefix):
            continue
        if not leaf or leaf.startswith(("_", ".")):
            continue
        values = partition_values(name, location, keys)
        if values is None:
            continue
        data = bytes(key.value)
        opened = OpenedObject(pq.read_metadata(pa.BufferReader(data)), pa.BufferReader(data))
        parts.append(decode_object(opened, every, values, use_threads=False))
    if not parts:
        return schema(every).empty_table()
    return pa.concat_tables(parts, promote_options="permissive")


def _hex_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(20)}"


def _evaluate(
    account: str,
    region: str,
    run: dict[str, Any],
    rulesets: list[dict[str, Any]],
    table: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """One result per ruleset, kept; the run updated."""
    data = table_data(table)
    source = run["DataSource"]["GlueTable"]
    results = []
    for ruleset in rulesets:
        rule_results = dqdl.evaluate(dqdl.parse_ruleset(ruleset["Ruleset"]), data)
        result = {
            "ResultId": _hex_id("dqresult"),
            "Score": dqdl.score(rule_results),
            "DataSource": run["DataSource"],
            "RulesetName": ruleset["Name"],
            "StartedOn": run["StartedOn"],
            "CompletedOn": utcnow().timestamp(),
            "RulesetEvaluationRunId": run["RunId"],
            "RuleResults": [
                {
                    "Name": f"Rule_{index}",
                    "Description": found.rule.text,
                    "EvaluationMessage": found.message,
                    "Result": "PASS" if found.passed else "FAIL",
                    **(
                        {"EvaluatedMetrics": {found.rule.type: found.metric}}
                        if found.metric is not None
                        else {}
                    ),
                }
                for index, found in enumerate(rule_results, start=1)
            ],
        }
        results.append(result)
        passed = sum(found.passed for found in rule_results)
        detail = {
            "context": {
                "contextType": "GLUE_DATA_CATALOG",
                "runId": run["RunId"],
                "databaseName": source["DatabaseName"],
                "tableName": source["TableName"],
                "catalogId": source.get("CatalogId") or account,
            },
            "resultID": result["ResultId"],
            "rulesetNames": [ruleset["Name"]],
            "state": "SUCCEEDED" if passed == len(rule_results) else "FAILED",
            "score": result["Score"],
            "rulesSucceeded": passed,
            "rulesFailed": len(rule_results) - passed,
            "rulesSkipped": 0,
        }
        events_backends[account][region].put_events(
            [
                {
                    "Source": SOURCE,
                    "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                    "Resources": [],
                    "EventBusName": "default",
                }
            ]
        )
    return results


def start_data_quality_ruleset_evaluation_run(self: Any) -> ActionResult:
    params = _params(self)
    account, region = self.current_account, self.region
    source = (params.get("DataSource") or {}).get("GlueTable") or {}
    role = str(params.get("Role") or "")
    names = [str(n) for n in params.get("RulesetNames") or []]
    if not source.get("DatabaseName") or not source.get("TableName") or not role:
        raise _error("InvalidInputException", "DataSource.GlueTable and Role are required.")
    if not 1 <= len(names) <= MAX_RULESETS_PER_RUN:
        raise _error("InvalidInputException", "RulesetNames holds 1 to 10 names.")
    catalog = str(source.get("CatalogId") or account)
    if catalog != account:
        raise _error("InvalidInputException", "Only tables of the caller's catalog are emulated.")
    table = _table(catalog, region, str(source["DatabaseName"]), str(source["TableName"]))
    found = store(account, region)
    missing = [n for n in names if n not in found.rulesets]
    if missing:
        raise _error("EntityNotFoundException", f"Ruleset {missing[0]} not found.")
    run: dict[str, Any] = {
        "RunId": _hex_id("dqrun"),
        "DataSource": {"GlueTable": {**source, "CatalogId": catalog}},
        "Role": role,
        "RulesetNames": names,
        "StartedOn": utcnow().timestamp(),
        "ResultIds": [],
    }
    location = S3Location.parse(str((table.get("StorageDescriptor") or {}).get("Location") or ""))
    denial = _read_denial(role, location, region)
    if denial is not None:
        run.update(Status="FAILED", ErrorString=denial)
    else:
        results = _evaluate(account, region, run, [found.rulesets[n] for n in names], table)
        with _lock:
            for result in results:
                found.results[result["ResultId"]] = result
        run.update(Status="SUCCEEDED", ResultIds=[r["ResultId"] for r in results])
    run["CompletedOn"] = run["LastModifiedOn"] = utcnow().timestamp()
    with _lock:
        found.runs[run["RunId"]] = run
    return ActionResult({"RunId": run["RunId"]})


def get_data_quality_ruleset_evaluation_run(self: Any) -> ActionResult:
    run_id = str(_params(self).get("RunId") or "")
    found = store(self.current_account, self.region).runs.get(run_id)
    if found is None:
        raise _error("EntityNotFoundException", f"Run {run_id} not found.")
    return ActionResult(dict(found))


def get_data_quality_result(self: Any) -> ActionResult:
    result_id = str(_params(self).get("ResultId") or "")
    found = store(self.current_account, self.region).results.get(result_id)
    if found is None:
        raise _error("EntityNotFoundException", f"Result {result_id} not found.")
    return ActionResult(dict(found))


def install() -> None:
    patch_attr(GlueResponse, "create_data_quality_ruleset", create_data_quality_ruleset)
    patch_attr(GlueResponse, "get_data_quality_ruleset", get_data_quality_ruleset)
    patch_attr(
        GlueResponse,
        "start_data_quality_ruleset_evaluation_run",
        start_data_quality_ruleset_evaluation_run,
    )
    patch_attr(
        GlueResponse,
        "get_data_quality_ruleset_evaluation_run",
        get_data_quality_ruleset_evaluation_run,
    )
    patch_attr(GlueResponse, "get_data_quality_result", get_data_quality_result)
