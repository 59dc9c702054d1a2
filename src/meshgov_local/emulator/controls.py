"""Switches and counters of the emulated AWS, shared by every patch of the local mesh.

AWS Glue delivers its Data Catalog events on a *best effort* basis ("Delivery type: Best effort",
https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-glue.html; "they might be out of
sequence or missing", https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html).
The drop switch lets tests and the demo lose a chosen share of those events, reproducibly, to prove
that meshgov's scheduled sweep converges without them.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import Any

LOGGER = logging.getLogger(__name__)

GlueEventListener = Callable[[str, dict[str, Any]], None]
"""Called as ``fn(account_id, entry)`` for every Glue event put on an event bus."""

TargetListener = Callable[[str, str, dict[str, Any]], None]
"""Called as ``fn(account_id, target_arn, event)`` for a matched target moto cannot invoke."""


class EmulatorControls:
    """The knobs of the emulator: Glue event loss, counters and observers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drop_rate = 0.0
        self._random = random.Random()
        self.glue_events_emitted = 0
        self.glue_events_dropped = 0
        self._listeners: list[GlueEventListener] = []
        self._target_listeners: list[TargetListener] = []

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

    def reset(self) -> None:
        """Back to a lossless emulator: drop rate 0, counters 0, no listeners."""
        with self._lock:
            self._drop_rate = 0.0
            self._random = random.Random()
            self.glue_events_emitted = 0
            self.glue_events_dropped = 0
            self._listeners.clear()
            self._target_listeners.clear()


controls = EmulatorControls()
