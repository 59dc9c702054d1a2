"""The local meshes of this test process (one per pytest-xdist worker): the first mesh of each
layout is deployed, every later one restored from that deploy's snapshot
(:mod:`meshgov_local.snapshot`, whose faithfulness ``tests/localmesh/test_snapshot.py`` proves).

Use ``MESHES.mesh(config, endpoint_url, parameter_overrides)`` wherever a test would call
``LocalMesh(...)`` for a mesh to work in; tests about the deploy itself call ``LocalMesh()``.
"""

from __future__ import annotations

from meshgov_local.snapshot import MeshSnapshots

MESHES = MeshSnapshots()
