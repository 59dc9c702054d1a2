"""Central names: ``<domain>_<source database>`` (docs/adr/0003-central-naming.md).

Domains match ``[a-z][a-z0-9]{0,31}`` (no underscore) and are unique per producer, so the first
underscore splits a central name unambiguously: two producers can never collide.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshgov.contracts.names import check_glue_name
from meshgov.errors import NameInvalidError


@dataclass(frozen=True)
class Producer:
    account_id: str
    domain: str


def central_database_name(producer: Producer, source_database: str) -> str:
    name = f"{producer.domain}_{source_database.lower()}"
    try:
        return check_glue_name(name)
    except ValueError as exc:
        raise NameInvalidError(
            f"central name for {producer.account_id}:{source_database!r} would be {len(name)} "
            "characters; Glue accepts 1-255 single-line characters"
        ) from exc
