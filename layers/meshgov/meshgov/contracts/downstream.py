"""What a breaking schema change or a contract breach reaches downstream, as its event names it.

``Breaking Schema Change`` and ``Contract Breached`` (and every consumer's and the producer's
copy of them) carry ``downstream``: each node the lineage walk reaches from the producer's table
(:mod:`meshgov.lineage.reach`), computed when the event is sent, never stored — the central
table, the consumers' resource links and the principals reading them (edges meshgov knows
itself), and through the members' OpenLineage run events the jobs that read it and the
datasets they write (other producers' derived products among them). ``None``: the lineage
could not be read (or the function has no lineage table); the event is sent all the same.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DownstreamNode(BaseModel):
    """One node reached: ``kind`` as ``meshgov lineage`` describes it (``central table``,
    ``producer table``, ``table`` — a consumer's link or own table —, ``job``, ``principal``,
    ``dataset``), ``distance`` in hops from the producer's table, ``via`` who says so of the
    edge that reached it (``catalog``, ``grant``, ``openlineage``)."""

    model_config = ConfigDict(extra="forbid")

    node: str
    kind: str
    distance: int = Field(ge=1)
    via: str
