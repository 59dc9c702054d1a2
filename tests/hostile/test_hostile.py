"""Issue 6: the hostile input corpus, every case at its entry point.

Each case is refused with its error code in one audit record whose reason names the problem (or,
where meshgov never sees the input, refused by AWS or the CLI with a message saying why), nothing
changes in any account, nothing is retried, and a catalog event that can never succeed is parked
in ``CatalogEventsDLQ``. The cases of one entry point share one mesh (they do not interact: each
is checked against its own snapshot), built once when the first of them runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from meshgov_local.mesh import LocalMesh
from tests.hostile.check import check_case, group_mesh
from tests.hostile.corpus import CORPUS, GROUPS, Group, HostileCase

GROUP_OF = {case.id: group for group in GROUPS for case in group.cases}


class Meshes:
    """One mesh at a time: the cases come group by group, so a new group closes the last."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._group: Group | None = None
        self._mesh: LocalMesh | None = None

    def of(self, group: Group) -> LocalMesh:
        if self._group is not group or self._mesh is None:
            self.close()
            self._stack = ExitStack()
            self._mesh = self._stack.enter_context(group_mesh(group))
            self._group = group
        return self._mesh

    def close(self) -> None:
        self._stack.close()
        self._group, self._mesh = None, None


@pytest.fixture(scope="module")
def meshes() -> Iterator[Meshes]:
    holder = Meshes()
    yield holder
    holder.close()


def test_the_corpus_covers_every_entry_point_and_kind() -> None:
    assert len(CORPUS) >= 60
    assert len({case.id for case in CORPUS}) == len(CORPUS)
    entry_points = Counter(case.entry_point for case in CORPUS)
    assert set(entry_points) == {"glue-events", "access", "member", "cli", "promises"}
    kinds = {case.kind for case in CORPUS}
    assert {
        "spoofed-account",
        "untrusted-sender",
        "forged-decision",
        "bad-name",
        "oversized",
        "unicode",
        "injection",
        "unknown-fields",
        "wrong-type",
        "expired-invitation",
        "cross-account-drop",
    } <= kinds
    # Only input meshgov never receives goes without an audit record
    for case in CORPUS:
        assert (case.expect_audit is None) == (case.expect_code is None), case.id
        assert case.says, case.id


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_hostile_input_is_refused_audited_and_changes_nothing(
    meshes: Meshes, case: HostileCase
) -> None:
    mesh = meshes.of(GROUP_OF[case.id])
    assert check_case(mesh, case) == []
