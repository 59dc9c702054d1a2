"""Did-you-mean hints for a database, table or request name the mesh does not know.

One helper for every command that takes such a name. A producer's own database name is the most
common mistake (``--database sales`` for the central ``sales_sales``): the central naming rule
(:func:`meshgov.catalog.naming.central_database_name`, ADR 0003) turns it into the central name
of each producer domain, and the one(s) that exist are suggested. Anything else gets the closest
known names (:func:`difflib.get_close_matches`). Pure: the callers read what is known.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from meshgov.access.store import RequestRecord
from meshgov.catalog.naming import Producer, central_database_name
from meshgov.errors import NameInvalidError

CLOSE_ENOUGH = 0.6  # difflib's default ratio: "ordres" finds "orders", "hr" does not find it
AT_MOST = 3


def closest(wrong: str, known: Iterable[str]) -> list[str]:
    """The known names closest to ``wrong`` (at most three, best first, then by name)."""
    found = difflib.get_close_matches(wrong, sorted(set(known)), n=AT_MOST, cutoff=CLOSE_ENOUGH)

    def score(name: str) -> tuple[float, str]:
        return -difflib.SequenceMatcher(None, wrong, name).ratio(), name

    return sorted(found, key=score)


def did_you_mean(wrong: str, known: Iterable[str], why: str = "") -> str:
    """`` (did you mean a or b?)`` for the closest known names, or ``""`` when none is close."""
    return _phrase(closest(wrong, known), why)


def _phrase(names: list[str], why: str = "") -> str:
    if not names:
        return ""
    return f" (did you mean {' or '.join(names)}?{' ' + why if why else ''})"


def central_names_of(database: str, producers: Mapping[str, str]) -> list[str]:
    """The central name ``database`` has if it is a database of one of ``producers``
    (account id -> domain), one per producer domain."""
    names = []
    for account, domain in sorted(producers.items(), key=lambda item: item[1]):
        try:
            names.append(central_database_name(Producer(account, domain), database))
        except NameInvalidError:
            continue
    return names


def database_hint(database: str, central: Iterable[str], producers: Mapping[str, str]) -> str:
    """Why ``database`` may not be a central database, and what is: a producer's name is
    answered with its central name(s), anything else with the closest central names."""
    known = set(central)
    producer_names = [n for n in central_names_of(database, producers) if n in known]
    if producer_names:
        return _phrase(producer_names, "central names a producer's database <domain>_<database>")
    return did_you_mean(database.lower(), known)


def table_hint(table: str, tables: Iterable[str]) -> str:
    """The closest table names of the database (Glue stores them in lower case)."""
    return did_you_mean(table.lower(), tables)


def unknown_request(request_id: str, records: Iterable[RequestRecord]) -> str:
    """The error for a request id not in the requests table, with the closest ids."""
    return f"no request {request_id} in the central requests table" + did_you_mean(
        request_id, (r.request_id for r in records)
    )
