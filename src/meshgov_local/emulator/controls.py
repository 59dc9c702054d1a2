"""Switches, counters, clock and organization of the emulated AWS, shared by every patch.

AWS Glue delivers its Data Catalog events on a *best effort* basis ("Delivery type: Best effort",
https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-glue.html; "they might be out of
sequence or missing", https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html).
The drop switch lets tests and the demo lose a chosen share of those events, reproducibly, to prove
that meshgov's scheduled sweep converges without them.

Time. AWS RAM invitations to share Glue resources expire after 12 hours
(https://docs.aws.amazon.com/ram/latest/userguide/working-with-shared-invitations.html). The
emulator reads time from :meth:`EmulatorControls.now` (the wall clock plus an offset), so tests
and the demo can let hours pass with :meth:`EmulatorControls.advance_time`.

Organization. "If you're added to the resource share through an AWS account that is a member of
an organization in AWS Organizations, and sharing within the organization is enabled, then you
automatically get access to the shared resources without having to accept an invitation" (same
page). By default the emulated accounts belong to no organization, so every cross-account share
sends an invitation; :meth:`EmulatorControls.set_organization` puts accounts in one.

Partial batch reads. Glue's ``BatchGetPartition`` may leave requested keys in ``UnprocessedKeys``,
"the partition values in the request for which partitions were not returned"
(https://docs.aws.amazon.com/glue/latest/webapi/API_BatchGetPartition.html);
:meth:`EmulatorControls.set_unprocessed_partition_rate` makes the emulated Glue do so (off by
default; :mod:`.glue_paging` honours it).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

LOGGER = logging.getLogger(__name__)

GlueEventListener = Callable[[str, dict[str, Any]], None]
"""Called as ``fn(account_id, entry)`` for every Glue event put on an event bus."""

TargetListener = Callable[[str, str, dict[str, Any]], None]
"""Called as ``fn(account_id, target_arn, event)`` for a matched target moto cannot invoke."""


class EmulatorControls:
    """The knobs of the emulator: Glue event loss, counters, observers, clock, organization,
    partial BatchGetPartition answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clock_offset = timedelta()
        self._organization_id: str | None = None
        self._organization_accounts: frozenset[str] = frozenset()
        self._organization_sharing = True
        self._drop_rate = 0.0
        self._random = random.Random()
        self.glue_events_emitted = 0
        self.glue_events_dropped = 0
        self._listeners: list[GlueEventListener] = []
        self._target_listeners: list[TargetListener] = []
        self._unprocessed_rate = 0.0
        self._unprocessed_catalogs: frozenset[str] = frozenset()
        self._unprocessed_random = random.Random()
        self.partition_keys_unprocessed = 0

    @property
    def event_drop_rate(self) -> float:
        return self._drop_rate

    def set_event_drop_rate(self, rate: float, seed: int | None = None) -> None:
        """Drop ``rate`` (0.0 to 1.0) of the Glue events before they reach EventBridge."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"event drop rate must be between 0 and 1, got {rate}")
        with self._lock:
            self._drop_rate = rate
            self._random = random.Random(seed)

    def should_drop_glue_event(self) -> bool:
        """Decide (and count) whether the next Glue event is lost."""
        with self._lock:
            if self._drop_rate > 0.0 and self._random.random() < self._drop_rate:
                self.glue_events_dropped += 1
                return True
            return False

    def record_glue_event(self, account_id: str, entry: dict[str, Any]) -> None:
        """Count an emitted Glue event and tell the listeners."""
        with self._lock:
            self.glue_events_emitted += 1
            listeners = list(self._listeners)
        for listener in listeners:
            listener(account_id, entry)

    def add_listener(self, fn: GlueEventListener) -> None:
        with self._lock:
            self._listeners.append(fn)

    def remove_listener(self, fn: GlueEventListener) -> None:
        with self._lock:
            if fn in self._listeners:
                self._listeners.remove(fn)

    def add_target_listener(self, fn: TargetListener) -> None:
        """Observe events matched to Lambda, SNS or Step Functions targets (moto runs none)."""
        with self._lock:
            self._target_listeners.append(fn)

    def remove_target_listener(self, fn: TargetListener) -> None:
        with self._lock:
            if fn in self._target_listeners:
                self._target_listeners.remove(fn)

    def notify_target(self, account_id: str, target_arn: str, event: dict[str, Any]) -> None:
        with self._lock:
            listeners = list(self._target_listeners)
        if not listeners:
            LOGGER.debug("no listener for target %s; event %s not delivered", target_arn, event)
        for listener in listeners:
            listener(account_id, target_arn, event)

    # --- clock -----------------------------------------------------------------------------

    def now(self) -> datetime:
        """The emulated time (UTC): the wall clock moved on by every :meth:`advance_time`."""
        with self._lock:
            offset = self._clock_offset
        return datetime.now(UTC) + offset

    def advance_time(self, seconds: float) -> None:
        """Let ``seconds`` pass for the emulated services (never backwards)."""
        if seconds < 0:
            raise ValueError(f"time cannot go backwards, got {seconds} seconds")
        with self._lock:
            self._clock_offset += timedelta(seconds=seconds)

    # --- organization ----------------------------------------------------------------------

    def set_organization(
        self, org_id: str | None, accounts: Iterable[str] = (), *, sharing_enabled: bool = True
    ) -> None:
        """Put ``accounts`` in the organization ``org_id`` (None: no organization at all).

        ``sharing_enabled`` is RAM's "sharing with AWS Organizations" setting: without it, accounts
        of the organization receive invitations like any other account.
        """
        members = frozenset(str(account) for account in accounts)
        if org_id is None and members:
            raise ValueError("accounts need an organization id")
        with self._lock:
            self._organization_id = org_id
            self._organization_accounts = members if org_id is not None else frozenset()
            self._organization_sharing = sharing_enabled

    @property
    def organization_id(self) -> str | None:
        return self._organization_id

    def organization_of(self, account_id: str) -> str | None:
        """The organization ``account_id`` belongs to, if any."""
        with self._lock:
            if account_id in self._organization_accounts:
                return self._organization_id
            return None

    def shares_without_invitation(self, owner_account: str, receiver_account: str) -> bool:
        """Whether RAM gives ``receiver_account`` access to ``owner_account``'s shares directly."""
        with self._lock:
            members = self._organization_accounts
            return (
                self._organization_sharing
                and owner_account in members
                and receiver_account in members
            )

    # --- BatchGetPartition UnprocessedKeys -------------------------------------------------

    def set_unprocessed_partition_rate(
        self, rate: float, *, catalogs: Iterable[str] = (), seed: int | None = None
    ) -> None:
        """Leave ``rate`` (0.0 to 1.0) of the keys each ``BatchGetPartition`` asks for unread.

        AWS may return some requested keys in ``UnprocessedKeys``, "the partition values in the
        request for which partitions were not returned"
        (https://docs.aws.amazon.com/glue/latest/webapi/API_BatchGetPartition.html): those were
        not read, which says nothing about whether they exist. ``catalogs`` limits this to those
        accounts' catalogs (empty: every catalog); 0.0, the default, turns it off.
        """
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"unprocessed partition rate must be between 0 and 1, got {rate}")
        with self._lock:
            self._unprocessed_rate = rate
            self._unprocessed_catalogs = frozenset(str(account) for account in catalogs)
            self._unprocessed_random = random.Random(seed)

    def unprocessed_partition_keys[T](self, catalog_id: str, keys: Sequence[T]) -> list[T]:
        """Choose (and count) the ``keys`` one ``BatchGetPartition`` on ``catalog_id`` leaves
        unprocessed, in request order."""
        with self._lock:
            if self._unprocessed_rate <= 0.0 or (
                self._unprocessed_catalogs and catalog_id not in self._unprocessed_catalogs
            ):
                return []
            chosen = [
                key for key in keys if self._unprocessed_random.random() < self._unprocessed_rate
            ]
            self.partition_keys_unprocessed += len(chosen)
            return chosen

    def reset(self) -> None:
        """Back to a lossless emulator in real time: no drops, counters, listeners, organization,
        every BatchGetPartition key processed."""
        with self._lock:
            self._clock_offset = timedelta()
            self._organization_id = None
            self._organization_accounts = frozenset()
            self._organization_sharing = True
            self._drop_rate = 0.0
            self._random = random.Random()
            self.glue_events_emitted = 0
            self.glue_events_dropped = 0
            self._listeners.clear()
            self._target_listeners.clear()
            self._unprocessed_rate = 0.0
            self._unprocessed_catalogs = frozenset()
            self._unprocessed_random = random.Random()
            self.partition_keys_unprocessed = 0


controls = EmulatorControls()
