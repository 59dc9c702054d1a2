"""An ODCS v3 document: parsed (YAML or JSON), validated with the published models, reduced to
the terms meshgov enforces for each table it names.

Validation is the ``open-data-contract-standard`` package's: its pydantic model
(``OpenDataContractStandard``, which forbids unknown top-level fields) and, for what that model
leaves optional, the ``required`` fields and the ``apiVersion``/``kind`` enums of the JSON Schema
the same package ships (https://bitol-io.github.io/open-data-contract-standard/latest/). Only
``apiVersion`` v3.x is accepted: v2 documents have another shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from meshgov.catalog.canonical import digest
from meshgov.errors import MeshgovError, validation_reason

if TYPE_CHECKING:
    from open_data_contract_standard.model import SchemaObject

# The largest contract object meshgov reads: 256 KiB, the most an EventBridge event can carry
# (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html), and, stored
# compressed with its terms, well within one DynamoDB item (400 KB,
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html), so each
# version is one item. A contract describing a data product's tables is a few KiB.
MAX_CONTRACT_BYTES = 256 * 1024

_SEMVER = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?$")


class ContractRefusedError(MeshgovError):
    """A contract meshgov will not accept; ``code`` is the audit record's ``error_code``."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class ColumnTerm:
    """A contracted column: its physical type, if the contract names one, and whether it is
    required (ODCS ``required``: may not hold nulls)."""

    name: str
    physical_type: str | None
    required: bool


@dataclass(frozen=True)
class TableTerms:
    """What a contract's schema object says about one table."""

    table: str
    columns: tuple[ColumnTerm, ...]
    # Columns flagged ``partitioned`` in the order of ``partitionKeyPosition`` (empty: the
    # contract names none, and the table's partition keys at acceptance are the promise).
    partition_keys: tuple[str, ...]


@dataclass(frozen=True)
class Contract:
    """A validated ODCS document."""

    contract_id: str
    version: str
    major: int
    status: str
    tables: dict[str, TableTerms]
    document: dict[str, Any]  # the validated document, as JSON (what is kept)
    digest: str

    def terms_for(self, table: str) -> TableTerms | None:
        return self.tables.get(table.lower())


@cache
def _schema_rules() -> tuple[tuple[str, ...], frozenset[str], frozenset[str]]:
    """Required top-level fields and the accepted ``apiVersion``/``kind`` values, from the JSON
    Schema the package ships (read once)."""
    # The package's own schema.json (what OpenDataContractStandard.json_schema() returns,
    # through a deprecated importlib call).
    text = resources.files("open_data_contract_standard").joinpath("schema.json").read_text()
    schema = json.loads(text)
    properties = schema.get("properties", {})
    versions = frozenset(
        v for v in properties.get("apiVersion", {}).get("enum", []) if str(v).startswith("v3.")
    )
    kinds = frozenset(properties.get("kind", {}).get("enum", ["DataContract"]))
    return tuple(schema.get("required", [])), versions, kinds


def parse_contract(raw: bytes) -> Contract:
    """The contract in ``raw`` (YAML, of which JSON is a subset); ``ContractRefusedError``
    (``ContractInvalid`` / ``ContractTooLarge``) when it is not a valid ODCS v3 document."""
    if len(raw) > MAX_CONTRACT_BYTES:
        raise ContractRefusedError(
            "ContractTooLarge",
            f"contract of {len(raw)} bytes exceeds the {MAX_CONTRACT_BYTES} bytes meshgov reads",
        )
    import yaml  # with the contract, not the handler (as the ODCS models below)

    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise _invalid(f"not YAML or JSON: {_short(exc)}") from exc
    if not isinstance(data, dict):
        raise _invalid("an ODCS document is a mapping")
    required, versions, kinds = _schema_rules()
    missing = [name for name in required if data.get(name) in (None, "")]
    if missing:
        raise _invalid(f"missing required field(s): {', '.join(missing)}")
    if data.get("apiVersion") not in versions:
        raise _invalid(f"apiVersion {data.get('apiVersion')!r} is not ODCS v3 ({sorted(versions)})")
    if data.get("kind") not in kinds:
        raise _invalid(f"kind {data.get('kind')!r} is not one of {sorted(kinds)}")
    try:
        # imported when a contract is read, not with the handler (~50 ms of pydantic models
        # every cold start of the catalog functions would otherwise pay)
        from open_data_contract_standard.model import OpenDataContractStandard

        model = OpenDataContractStandard.model_validate(data)
    except ValidationError as exc:
        raise _invalid(validation_reason(exc, whole="contract")) from exc
    match = _SEMVER.match(str(model.version))
    if match is None:
        raise _invalid(f"version {model.version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    document = json.loads(
        json.dumps(model.model_dump(by_alias=True, exclude_none=True), default=str)
    )
    return Contract(
        contract_id=str(model.id),
        version=str(model.version),
        major=int(match.group(1)),
        status=str(model.status or ""),
        tables=_tables(model.schema_ or []),
        document=document,
        digest=digest(document),
    )


def version_key(version: str) -> tuple[int, int, int]:
    """A contract version, comparable (``1.10.0`` after ``1.9.0``)."""
    match = _SEMVER.match(version)
    if match is None:
        return (0, 0, 0)
    return (int(match.group(1)), int(match.group(2) or 0), int(match.group(3) or 0))


def _tables(objects: list[SchemaObject]) -> dict[str, TableTerms]:
    tables: dict[str, TableTerms] = {}
    for obj in objects:
        name = (obj.physicalName or obj.name or "").lower()
        if not name:
            raise _invalid("a schema object names no table (name or physicalName)")
        columns = []
        partitioned: list[tuple[int, str]] = []
        for prop in obj.properties or []:
            column = (prop.physicalName or prop.name or "").lower()
            if not column:
                raise _invalid(f"schema {name}: a property names no column")
            columns.append(ColumnTerm(column, prop.physicalType, bool(prop.required)))
            if prop.partitioned:
                partitioned.append((prop.partitionKeyPosition or len(partitioned) + 1, column))
        tables[name] = TableTerms(
            table=name,
            columns=tuple(columns),
            partition_keys=tuple(c for _, c in sorted(partitioned)),
        )
    return tables


def _invalid(reason: str) -> ContractRefusedError:
    return ContractRefusedError("ContractInvalid", f"not a valid ODCS v3 contract: {reason}")


def _short(exc: Exception) -> str:
    return str(exc).replace("\n", " ")[:200]
