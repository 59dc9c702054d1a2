"""Deploy the local mesh once per process, then give each test a restored copy of that state.

Why: nearly every test of the local mesh starts from template.yaml deployed into its accounts.
A deploy is ~240 emulated calls (4.5-6 s on a loaded 2-core machine) and ~220 tests need one;
the state a deploy leaves behind is the same every time for the same accounts and parameters.
So :class:`MeshSnapshots` deploys the first time (per :func:`snapshot_key`), snapshots the
emulated AWS right after, and builds every later mesh around a fresh copy of that snapshot
instead (``LocalMesh(..., deployment=...)``, which skips the deploy). Tests that must see a deploy
happen (the deploy tests, least privilege) keep calling ``LocalMesh()``.

What a snapshot copies — every piece of state of the emulated AWS, nothing else:

- moto's backends: every ``BackendDict`` moto has created an account in
  (``BackendDict._instances``: IAM, STS, SQS, EventBridge, DynamoDB, S3, KMS, Lake Formation,
  Glue, RAM... whichever the deploy touched), and in each, every account's region backends.
  ``AccountSpecificBackend`` is a dict subclass whose ``__getitem__`` creates a region's backend
  on first access, so it is read with ``dict.items`` (no backend created, none missed) and rebuilt
  with ``dict.__setitem__``; the ``BackendDict`` singletons themselves are kept (every moto and
  emulator module holds them), only their content is replaced, with the state a subclass keeps on
  itself across accounts (S3's ``bucket_accounts``, the one bucket namespace: without it a
  restored bucket has no owner, and a registered location fails verification). The emulator's
  stores kept as attributes of backend objects (data cells filters) come with them.
- the emulator's own module-level stores: role sessions, session ARNs, session policies and tags
  by access key (:func:`.emulator.iam_enforcement.session_stores`), and who created each Glue
  object (:data:`.emulator.lakeformation_permissions.creators`, weakly keyed by moto's Glue
  objects: pickled together with the backends, the copied entries key the copied objects).
- what the deploy added to the :data:`.emulator.controls` counters. Its settings (clock,
  organization, drop rates) are the test's, not the deploy's: a snapshot is only taken and
  restored while they are at their defaults (:func:`controls_at_defaults`).

How: all of it is one pickle, so objects shared between backends stay shared in the copy (as a
deep copy of each backend alone would not). A :class:`_StatePickler` keeps by reference what must
stay the same object or cannot be pickled and never changes (the ``BackendDict`` singletons,
functions, modules, cryptography key objects of KMS), and makes fresh locks. Each restore
unpickles a new copy; the snapshot itself is never touched. ``tests/localmesh/test_snapshot.py``
proves that a restored mesh's state equals a freshly deployed one's (:func:`state_digest`) and that
what one test changes is not seen by the next.

Not covered: a moto *server*'s queue URLs name the endpoint they were created through, so a
snapshot is only restored for the endpoint it was taken on (``snapshot_key``).
"""

from __future__ import annotations

import hashlib
import io
import pickle
import threading
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moto.core.base_backend import AccountSpecificBackend, BackendDict

from meshgov_local.config import MeshConfig
from meshgov_local.emulator import controls, iam_enforcement
from meshgov_local.emulator.lakeformation_permissions import creators
from meshgov_local.template import TEMPLATE_PATH

if TYPE_CHECKING:
    from meshgov_local.deploy import Deployment
    from meshgov_local.mesh import LocalMesh

_LOCK_TYPES: dict[type, Any] = {
    type(threading.Lock()): threading.Lock,
    type(threading.RLock()): threading.RLock,
}
_COUNTERS = ("glue_events_emitted", "glue_events_dropped", "partition_keys_unprocessed")

SnapshotKey = tuple[MeshConfig, tuple[tuple[str, str], ...], str | None, str]


def snapshot_key(
    config: MeshConfig,
    parameter_overrides: Mapping[str, str] | None,
    endpoint_url: str | None,
    template_path: Path = TEMPLATE_PATH,
) -> SnapshotKey:
    """What makes two deploys leave the same state: the accounts, the template and its
    parameters, and the endpoint (a server's queue URLs name it)."""
    return (
        config,
        tuple(sorted((parameter_overrides or {}).items())),
        endpoint_url,
        str(template_path),
    )


def emulated_aws_empty() -> bool:
    """Whether moto holds no account at all (as after a reset): a deploy onto an empty moto is
    the only one a snapshot stands for, and a restore must not wipe a mesh already there."""
    return not any(dict.__len__(backend_dict) for backend_dict in BackendDict._instances)


def controls_at_defaults() -> bool:
    """Whether the emulator's settings are those of ``controls.reset()``: no clock offset, no
    organization, no event loss, no unprocessed partitions (a deploy under other settings may
    leave another state, and a restore must not undo what a test set before its mesh)."""
    fresh = type(controls)()
    kept = (
        "_clock_offset",
        "_organization_id",
        "_organization_accounts",
        "_organization_sharing",
        "_drop_rate",
        "_unprocessed_rate",
        "_unprocessed_catalogs",
    )
    return all(getattr(controls, name) == getattr(fresh, name) for name in kept)


class _Keeping:
    """What the state picklers share: objects that must stay one object are kept by reference
    (``persistent_id``), locks are pickled as new locks."""

    _kept: list[Any]
    _index: dict[int, int]

    def persistent_id(self, obj: Any) -> int | None:
        if not (
            isinstance(obj, BackendDict | types.FunctionType | types.ModuleType)
            or type(obj).__module__.startswith("cryptography.")
        ):
            return None
        index = self._index.get(id(obj))
        if index is None:
            index = self._index[id(obj)] = len(self._kept)
            self._kept.append(obj)
        return index

    def reducer_override(self, obj: Any) -> Any:
        make = _LOCK_TYPES.get(type(obj))
        return NotImplemented if make is None else (make, ())


class _StatePickler(_Keeping, pickle.Pickler):
    """Pickles the emulated state; keeps by reference what must stay one object."""

    def __init__(self, file: io.BytesIO, kept: list[Any]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._kept = kept
        self._index = {}


class _DigestPickler(_Keeping, pickle._Pickler):
    """Pickles a state for its digest: as :class:`_StatePickler`, with every set's elements in
    a canonical order. A set's iteration order is not part of its value: moto keeps in-flight
    SQS messages in a set of objects ordered by address, which differ between a live backend
    and the same backend restored. The pure-Python pickler asks ``reducer_override`` about
    every object; the C one never asks about sets."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._kept = []
        self._index = {}

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) in (set, frozenset):
            return type(obj), (sorted(obj, key=_digest_bytes),)
        return super().reducer_override(obj)


def _digest_bytes(value: Any) -> bytes:
    buffer = io.BytesIO()
    _DigestPickler(buffer).dump(value)
    return buffer.getvalue()


class _StateUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, kept: tuple[Any, ...]) -> None:
        super().__init__(io.BytesIO(data))
        self._kept = kept

    def persistent_load(self, pid: Any) -> Any:
        return self._kept[pid]


def _live_state() -> dict[str, Any]:
    """Every store of the emulated AWS, by reference (see the module docstring)."""
    return {
        "backends": [
            (
                backend_dict,
                _own_attributes(backend_dict),
                [
                    (account, vars(per_account), dict(dict.items(per_account)))
                    for account, per_account in dict.items(backend_dict)
                ],
            )
            for backend_dict in list(BackendDict._instances)
        ],
        "sessions": iam_enforcement.session_stores(),
        "creators": creators.entries(),
    }


# What every BackendDict has; anything else is state a subclass keeps across its accounts.
_BASE_ATTRIBUTES = frozenset(vars(BackendDict(object, "meshgov-snapshot-probe")))


def _own_attributes(backend_dict: BackendDict[Any]) -> dict[str, Any]:
    """The state a ``BackendDict`` subclass keeps on itself, across accounts (S3's
    ``bucket_accounts``: bucket name -> owner, the one bucket namespace of every account)."""
    return {k: v for k, v in vars(backend_dict).items() if k not in _BASE_ATTRIBUTES}


def _install_state(state: dict[str, Any]) -> None:
    """Replace whatever moto and the emulator hold with ``state`` (a fresh unpickled copy)."""
    for backend_dict in list(BackendDict._instances):
        dict.clear(backend_dict)
    BackendDict._instances.clear()
    for backend_dict, own, accounts in state["backends"]:
        vars(backend_dict).update(own)
        for account, attributes, regions in accounts:
            per_account = AccountSpecificBackend.__new__(AccountSpecificBackend)
            vars(per_account).update(attributes)
            for region, backend in regions.items():
                dict.__setitem__(per_account, region, backend)
            dict.__setitem__(backend_dict, account, per_account)
        if backend_dict not in BackendDict._instances:
            BackendDict._instances.append(backend_dict)
    iam_enforcement.replace_session_stores(state["sessions"])
    creators.replace(state["creators"])


def state_digest() -> dict[str, str]:
    """A digest of each region backend of each account of each service moto holds, and of the
    emulator's stores: equal digests, equal emulated AWS (``test_snapshot.py``). Each backend is
    pickled as a snapshot would be (every attribute of every object it holds); identifiers that
    are random per object (``AccountSpecificBackend._id``) are left out."""
    digest: dict[str, str] = {}
    for backend_dict in BackendDict._instances:
        own = _own_attributes(backend_dict)
        if own:
            digest[f"{backend_dict.service_name}/*"] = _hash(own)
        for account, per_account in dict.items(backend_dict):
            for region, backend in dict.items(per_account):
                digest[f"{backend_dict.service_name}/{account}/{region}"] = _hash(backend)
    digest["emulator/sessions"] = _hash(iam_enforcement.session_stores())
    digest["emulator/creators"] = _hash(sorted((repr(k), v) for k, v in creators.entries()))
    digest["emulator/counters"] = _hash([getattr(controls, name) for name in _COUNTERS])
    return digest


def _hash(value: Any) -> str:
    return hashlib.sha256(_digest_bytes(value)).hexdigest()


@dataclass(frozen=True)
class MeshSnapshot:
    """The emulated AWS right after one deploy, and what a :class:`LocalMesh` needs around it."""

    key: SnapshotKey
    deployment: Deployment
    state: bytes
    kept: tuple[Any, ...]
    counters: tuple[int, ...]

    @classmethod
    def take(
        cls, mesh: LocalMesh, key: SnapshotKey, counters_before: tuple[int, ...]
    ) -> MeshSnapshot:
        """Snapshot the state ``mesh``'s deploy just left (call it before anything else runs)."""
        kept: list[Any] = []
        buffer = io.BytesIO()
        _StatePickler(buffer, kept).dump(_live_state())
        after = _counters()
        added = tuple(a - b for a, b in zip(after, counters_before, strict=True))
        return cls(key, mesh.deployment, buffer.getvalue(), tuple(kept), added)

    def restore(self) -> None:
        """Put a fresh copy of the snapshot in place of whatever moto and the emulator hold."""
        _install_state(_StateUnpickler(self.state, self.kept).load())
        for name, added in zip(_COUNTERS, self.counters, strict=True):
            setattr(controls, name, getattr(controls, name) + added)


def _counters() -> tuple[int, ...]:
    return tuple(int(getattr(controls, name)) for name in _COUNTERS)


@dataclass
class MeshSnapshots:
    """Local meshes for tests: deployed the first time per :func:`snapshot_key` in this process,
    restored from that deploy's snapshot afterwards. Call :meth:`mesh` inside ``mock_aws()`` (or
    with the moto server of ``endpoint_url`` running), as ``LocalMesh(...)`` would be."""

    _taken: dict[SnapshotKey, MeshSnapshot] = field(default_factory=dict)
    deploys: int = 0
    restores: int = 0

    def mesh(
        self,
        config: MeshConfig | None = None,
        endpoint_url: str | None = None,
        parameter_overrides: Mapping[str, str] | None = None,
    ) -> LocalMesh:
        from meshgov_local.mesh import LocalMesh

        config = config or MeshConfig()
        key = snapshot_key(config, parameter_overrides, endpoint_url)
        defaults = controls_at_defaults() and emulated_aws_empty()
        snapshot = self._taken.get(key)
        if snapshot is not None and defaults:
            snapshot.restore()
            self.restores += 1
            return LocalMesh(
                config,
                endpoint_url,
                parameter_overrides=parameter_overrides,
                deployment=snapshot.deployment,
            )
        before = _counters()
        mesh = LocalMesh(config, endpoint_url, parameter_overrides=parameter_overrides)
        self.deploys += 1
        if defaults:
            self._taken[key] = MeshSnapshot.take(mesh, key, before)
        return mesh
