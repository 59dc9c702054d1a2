"""The producers central serves, as every central function reads them: from the registry, once
per invocation, on first use.

A producer being removed (``REMOVING``) is still served until its grace period ends: its
products stay published and its catalog events are still synced, so consumers lose nothing
before the date the platform team stated (:mod:`meshgov.registry.members`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from meshgov.catalog.naming import Producer
from meshgov.registry.store import Member, RegistryStore


class RegisteredProducers(Mapping[str, str]):
    """``producer account -> domain``, read from the registry the first time it is asked (a
    function that never needs it - a batch of lineage events, say - costs no read)."""

    def __init__(self, store: RegistryStore) -> None:
        self._store = store
        self._members: list[Member] | None = None
        self._domains: dict[str, str] | None = None

    def refresh(self) -> None:
        """Read the registry again at the next use (a member was added or removed by this
        invocation: a request of the same batch from the new consumer is then served)."""
        self._members = None
        self._domains = None

    def members(self) -> list[Member]:
        if self._members is None:
            self._members = self._store.members()
        return self._members

    def _loaded(self) -> dict[str, str]:
        if self._domains is None:
            self._domains = {
                m.account: m.domain for m in self.members() if m.is_producer and m.domain
            }
        return self._domains

    def __getitem__(self, account: str) -> str:
        return self._loaded()[account]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


class RegisteredProducerMap(Mapping[str, Producer]):
    """The same registry read, as the catalog functions use it: ``account -> Producer``."""

    def __init__(self, producers: RegisteredProducers) -> None:
        self.domains = producers

    def __getitem__(self, account: str) -> Producer:
        return Producer(account, self.domains[account])

    def __iter__(self) -> Iterator[str]:
        return iter(self.domains)

    def __len__(self) -> int:
        return len(self.domains)
