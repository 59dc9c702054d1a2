"""What a producer says about a data product, and the one rule deciding its classification.

A producer describes a published table with table parameters (``meshgov:classification``,
``meshgov:owner_contact``; meshgov copies them to the central table,
:mod:`meshgov.catalog.projection`) and may also tag it with the LF-Tag ``classification``
(mirrored as a central LF-Tag). Both say the same thing, so meshgov has one notion of a table's
classification, used alike by the approval policy (:mod:`meshgov.access.resolve`), ``meshgov
find`` (:mod:`meshgov.discovery.find`) and the posture report (:mod:`meshgov.posture`):

- the table's *effective* LF-Tag ``classification`` when it has one — its own, else its
  database's, as Lake Formation decides what a tag policy matches ("you can override the
  inherited value",
  https://docs.aws.amazon.com/lake-formation/latest/dg/TBAC-assigning-tags.html);
- else its ``meshgov:classification`` parameter;
- lower case (Lake Formation stores LF-Tag keys and values in lower case, and the policy's
  ``AutoApproveClassifications`` are compared in lower case).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

CLASSIFICATION_PARAMETER = "meshgov:classification"
CLASSIFICATION_TAG = "classification"
OWNER_CONTACT = "meshgov:owner_contact"


def classification_of(table: Mapping[str, Any], tags: Mapping[str, Sequence[str]] | None) -> str:
    """The classification of ``table`` (a Glue ``Table``, or anything with its ``Parameters``)
    whose effective LF-Tags are ``tags`` (None or empty: not read, or none): the LF-Tag
    ``classification`` if it has one (its values joined by ``,``), else its
    ``meshgov:classification``; ``""`` when neither says anything."""
    values = (tags or {}).get(CLASSIFICATION_TAG)
    if values:
        return ",".join(sorted(str(v).lower() for v in values))
    params = table.get("Parameters") or {}
    return str(params.get(CLASSIFICATION_PARAMETER, "")).strip().lower()


def classification_labels(classification: str) -> list[str]:
    """The labels of a classification as :func:`classification_of` gives it (``"a,b"`` -> both),
    shaped like the values of an LF-Tag, so that a ``classification=...`` condition is matched
    by the same rule as any other tag condition (:func:`meshgov.catalog.tags.expression_holds`)."""
    return sorted({label for label in classification.split(",") if label})
