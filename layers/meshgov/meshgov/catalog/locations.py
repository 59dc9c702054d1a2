"""Producer data locations registered in Lake Formation in the central account (issue 12, defect 4).

Central tables point at the producers' Amazon S3 data (nothing is copied), and Lake Formation vends
credentials only for *registered* locations: "To enable Lake Formation to control access to
underlying data at an Amazon S3 location, you register that location with Lake Formation"
(https://docs.aws.amazon.com/lake-formation/latest/dg/access-control-underlying-data.html). A
location in another account is registered with a role of the registering account that the
bucket's policy trusts (https://docs.aws.amazon.com/lake-formation/latest/dg/register-cross-account.html);
that role is template.yaml's ``DataLocationRole``, passed as ``RoleArn`` of ``RegisterResource``
(https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_RegisterResource.html).

What is registered: the **bucket** of a published table's ``StorageDescriptor.Location``
(``arn:<partition>:s3:::<bucket>``). "When you register a location, that Amazon S3 path and all
folders under that path are registered"
(https://docs.aws.amazon.com/lake-formation/latest/dg/register-data-lake.html), so one
registration covers every table of a producer's bucket and every partition in it (a partition
may lie outside its table's prefix); the registration does not change when a table moves within
its bucket, and the number of registrations (and of ``ListResources`` pages) follows buckets, not
tables. Access stays per table: Lake Formation vends credentials for what a principal was granted.

Convergence, as the catalog's: a published table's bucket is registered when the table is
converged (event or sweep; ``AlreadyExistsException`` means done). Only the sweep, which has seen
every published table of every producer, deregisters: a bucket registered with meshgov's role
that no published table uses any more (``DeregisterResource``; ``EntityNotFoundException`` means
done). Never on an event's payload, never when the sweep missed a producer or a database (it
cannot know what those use), never a registration made with another role (someone else's).

:func:`bucket_of` and :func:`plan` decide; :class:`DataLocations` is the thin adapter (one
``ListResources`` per invocation, then memory: a no-op sweep makes no per-table call).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from meshgov.audit import Auditor, AuditOutcome
from meshgov.aws.arns import Arns
from meshgov.aws.session import error_code, error_text
from meshgov.catalog.naming import Producer
from meshgov.errors import CatalogWriteError

ALREADY_EXISTS = "AlreadyExistsException"
NOT_FOUND = "EntityNotFoundException"

# General purpose bucket names: 3-63 characters, lower-case letters, digits, dots and hyphens,
# beginning and ending with a letter or digit
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class LocationRefusedError(ValueError):
    """A published table's location is not an Amazon S3 location Lake Formation can register."""


def bucket_of(location: str | None) -> str | None:
    """``s3://bucket/prefix/`` -> ``bucket``; None when the table names no location at all.

    Raises :class:`LocationRefusedError` for anything else (another scheme, a malformed bucket
    name): registering it would fail, and guessing a bucket from it would register the wrong one.
    """
    text = (location or "").strip()
    if not text:
        return None
    scheme = _SCHEME.match(text)
    if scheme is None or scheme.group(1) != "s3":
        raise LocationRefusedError(
            f"location {text!r} is not an Amazon S3 location (s3://bucket/prefix)"
        )
    bucket = text[len("s3://") :].split("/", 1)[0]
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise LocationRefusedError(f"location {text!r}: {bucket!r} is not a valid bucket name")
    return bucket


@dataclass(frozen=True)
class LocationPlan:
    """What to change so that the registrations meshgov owns equal the buckets in use."""

    register: tuple[str, ...] = ()
    deregister: tuple[str, ...] = ()
    # In use, but registered with a role meshgov does not manage: left alone, reported.
    foreign: tuple[str, ...] = ()


def plan(
    in_use: Collection[str],
    registered: Mapping[str, str],
    role_arn: str,
    *,
    complete: bool,
) -> LocationPlan:
    """``in_use``: resource ARNs published tables use; ``registered``: resource ARN -> the role
    it is registered with. Deregister only what meshgov registered, only from a ``complete``
    view of what is in use."""
    return LocationPlan(
        register=tuple(sorted(arn for arn in in_use if arn not in registered)),
        deregister=tuple(
            sorted(
                arn
                for arn, role in registered.items()
                if complete and role == role_arn and arn not in in_use
            )
        ),
        foreign=tuple(
            sorted(arn for arn in in_use if arn in registered and registered[arn] != role_arn)
        ),
    )


@dataclass
class _Seen:
    """The buckets published tables used in this invocation, and the registrations read."""

    in_use: set[str] = field(default_factory=set)
    registered: dict[str, str] | None = None


class DataLocations:
    """Registers producers' data locations in central Lake Formation (thin adapter).

    One instance per invocation (:func:`meshgov.catalog.service.build_catalog_service`): the
    registrations are read once (``ListResources``) and kept in memory.
    """

    def __init__(self, lakeformation: Any, role_arn: str, auditor: Auditor, arns: Arns) -> None:
        self._lf = lakeformation
        self._role_arn = role_arn
        self._auditor = auditor
        self._arns = arns
        self._seen = _Seen()

    def in_use(self) -> frozenset[str]:
        """The buckets the published tables converged in this invocation use."""
        return frozenset(self._seen.in_use)

    def also_in_use(self, arns: Iterable[str]) -> None:
        """Buckets other invocations saw in use (a fan-out sweep's items): a complete sweep
        deregisters only what no published table of any item uses."""
        self._seen.in_use.update(arns)

    def use(self, producer: Producer, table: Mapping[str, Any], correlation_id: str) -> None:
        """A published table is being converged centrally: make sure its bucket is registered.

        A location that cannot be registered is refused (audited) and the table is published
        without it; a failed registration raises :class:`CatalogWriteError` before the table is
        written, so the event is retried (or the sweep reports the database failed).
        """
        name = str(table.get("Name", ""))
        location = (table.get("StorageDescriptor") or {}).get("Location")
        try:
            bucket = bucket_of(location)
        except LocationRefusedError as exc:
            database = str(table.get("DatabaseName", ""))
            self._auditor.record(
                "lakeformation:RegisterResource",
                AuditOutcome.REFUSED,
                self._arns.glue_table(producer.account_id, database, name),
                correlation_id,
                str(exc),
            )
            return
        if bucket is None:
            return  # no data location (a view, say): nothing to vend credentials for
        arn = self._arns.arn("s3", "", bucket, regional=False)
        self._seen.in_use.add(arn)
        if arn not in self._registered():
            self._register(arn, correlation_id, producer=producer.account_id, table=name)

    def sweep(self, correlation_id: str, *, complete: bool) -> list[str]:
        """After every producer was swept: register what is missing, deregister meshgov's
        registrations no published table uses (only when ``complete``). Returns failures."""
        try:
            registered = self._registered()
        except CatalogWriteError as exc:
            self._seen = _Seen()
            self._auditor.record(
                "lakeformation:ListResources",
                AuditOutcome.FAILED,
                "data-locations",
                correlation_id,
                str(exc),
            )
            return [str(exc)]
        decided = plan(self._seen.in_use, registered, self._role_arn, complete=complete)
        failures: list[str] = []
        for arn, change in _changes(decided):
            try:
                if change == "register":
                    self._register(arn, correlation_id)
                else:
                    self._deregister(arn, correlation_id)
            except CatalogWriteError as exc:
                failures.append(str(exc))
                self._auditor.record(
                    f"lakeformation:{change.capitalize()}Resource",
                    AuditOutcome.FAILED,
                    arn,
                    correlation_id,
                    str(exc),
                )
        for arn in decided.foreign:
            self._auditor.record(
                "lakeformation:RegisterResource",
                AuditOutcome.SKIPPED,
                arn,
                correlation_id,
                "registered with another role: Lake Formation vends that role's credentials",
                role=registered.get(arn),
            )
        self._seen = _Seen()  # the next entry point reads the registrations afresh
        return failures

    # --- Lake Formation ----------------------------------------------------------------------
    def _registered(self) -> dict[str, str]:
        if self._seen.registered is None:
            self._seen.registered = {
                str(info["ResourceArn"]): str(info.get("RoleArn", ""))
                for info in self._list_resources()
            }
        return self._seen.registered

    def _list_resources(self) -> Iterator[dict[str, Any]]:
        """Every registered location (ListResources pages, up to 1000 each; the SDK has no
        paginator for it, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_ListResources.html)."""
        token: str | None = None
        while True:
            try:
                page = self._lf.list_resources(**({"NextToken": token} if token else {}))
            except ClientError as exc:
                raise CatalogWriteError(f"ListResources failed: {error_text(exc)}") from exc
            yield from page.get("ResourceInfoList") or []
            token = page.get("NextToken")
            if not token:
                return

    def _register(self, arn: str, correlation_id: str, **detail: str) -> None:
        try:
            self._lf.register_resource(
                ResourceArn=arn, RoleArn=self._role_arn, UseServiceLinkedRole=False
            )
        except ClientError as exc:
            if error_code(exc) != ALREADY_EXISTS:
                raise CatalogWriteError(
                    f"RegisterResource {arn} failed in central Lake Formation: {error_text(exc)}"
                ) from exc
            # Registered meanwhile (another invocation, or someone else with another role):
            # nothing written by meshgov; read the registrations again when next needed.
            self._seen.registered = None
            return
        self._auditor.record(
            "lakeformation:RegisterResource",
            AuditOutcome.SUCCEEDED,
            arn,
            correlation_id,
            role=self._role_arn,
            **detail,
        )
        self._registered()[arn] = self._role_arn

    def _deregister(self, arn: str, correlation_id: str) -> None:
        try:
            self._lf.deregister_resource(ResourceArn=arn)
        except ClientError as exc:
            if error_code(exc) != NOT_FOUND:
                raise CatalogWriteError(
                    f"DeregisterResource {arn} failed in central Lake Formation: {error_text(exc)}"
                ) from exc
            # Already gone: done.
        else:
            self._auditor.record(
                "lakeformation:DeregisterResource",
                AuditOutcome.SUCCEEDED,
                arn,
                correlation_id,
                "no published table uses it any more",
                role=self._role_arn,
            )
        self._registered().pop(arn, None)


def _changes(decided: LocationPlan) -> Iterator[tuple[str, str]]:
    yield from ((arn, "register") for arn in decided.register)
    yield from ((arn, "deregister") for arn in decided.deregister)
