"""The producers a central function serves, read from the registry once per invocation - and
again after the invocation itself changed the registry (a consumer added and its request in one
batch)."""

from __future__ import annotations

from meshgov.contracts.registry_events import MemberKind
from meshgov.registry.directory import RegisteredProducerMap, RegisteredProducers
from meshgov.registry.store import Member, MemberState


class Store:
    def __init__(self, members: list[Member]) -> None:
        self.stored = members
        self.reads = 0

    def members(self) -> list[Member]:
        self.reads += 1
        return list(self.stored)


def member(account: str, kind: MemberKind, domain: str | None = None) -> Member:
    return Member(account, kind, domain, MemberState.ACTIVE, "2026-12-05T00:00:00+00:00")


def test_read_once_on_first_use_and_again_after_a_change() -> None:
    store = Store([member("222222222222", MemberKind.PRODUCER, "sales")])
    producers = RegisteredProducers(store)  # type: ignore[arg-type]
    assert store.reads == 0  # nothing read until asked
    assert dict(producers) == {"222222222222": "sales"}
    assert producers.get("222222222222") == "sales" and len(producers) == 1
    assert store.reads == 1  # once per invocation
    # When this invocation registers another producer and a consumer
    store.stored += [
        member("444444444444", MemberKind.PRODUCER, "hr"),
        member("333333333333", MemberKind.CONSUMER),
    ]
    assert "444444444444" not in producers  # the invocation's view, until told
    producers.refresh()
    # Then the next use reads the registry again: consumers are members, not producers
    assert dict(producers) == {"222222222222": "sales", "444444444444": "hr"}
    assert {m.account for m in producers.members()} == {
        "222222222222",
        "333333333333",
        "444444444444",
    }
    assert store.reads == 2
    assert RegisteredProducerMap(producers)["444444444444"].domain == "hr"
