"""The project's exceptions: named ``<Noun><Problem>Error`` so a log line says what broke."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class MeshgovError(Exception):
    """Base of every error meshgov raises on purpose."""


class EventRejectedError(MeshgovError):
    """An event that can never be processed as it is: retrying it cannot help.

    It is audited as refused and sent to the dead-letter queue with the reason, so an operator can
    fix the cause (e.g. register the producer) and replay it.
    """

    code = "EventRejected"


class EventMalformedError(EventRejectedError):
    code = "EventMalformed"


class ProducerUnknownError(EventRejectedError):
    code = "ProducerUnknown"


class NameInvalidError(MeshgovError):
    """A name Glue would refuse (or one that would collide centrally)."""


class SettingsInvalidError(MeshgovError):
    """A function's configuration is missing or malformed: fail loudly at the handler's entry."""


class SourceUnavailableError(MeshgovError):
    """The producer catalog could not be read (role not assumable, access denied, throttled).

    Transient from meshgov's point of view: the message is retried, then dead-lettered.
    """


class PartitionReadIncompleteError(MeshgovError):
    """Glue left requested partitions unread (``BatchGetPartition`` ``UnprocessedKeys``) after
    every retry, in the producer's or the central catalog.

    An unread key says nothing about whether the partition exists, so nothing may be created,
    updated or deleted from such a read: the table's reconcile fails and is retried (SQS redrive,
    then the dead-letter queue; the next sweep).
    """


class CatalogWriteError(MeshgovError):
    """A write to the central catalog failed for a reason other than 'already in that state'."""


class AuditWriteError(MeshgovError):
    """An audit record could not be written: the action that needed it fails too."""


class DigestWriteError(MeshgovError):
    """An audit digest could not be written (the chain, the bucket or the signing key refused).

    The scheduled invocation fails, is retried, then lands in the sweep dead-letter queue; the
    next run covers the same records (nothing is skipped).
    """


class DigestReadError(MeshgovError):
    """The audit digests could not be read or checked (bucket or key unreadable, KMS throttled):
    verification cannot answer, which is not the same as a digest failing it."""


class QualityMalformedError(EventRejectedError):
    """A Glue Data Quality result event that does not name one Data Catalog table's result."""

    code = "QualityMalformed"


class QualityForgedError(EventRejectedError):
    """A quality result for a table of another account's catalog than the one that sent it."""

    code = "QualityForged"


class QualityNotPublishedError(EventRejectedError):
    """A quality result for a table that is not published (no central table of that producer)."""

    code = "QualityNotPublished"


def validation_reason(exc: ValidationError, every: bool = False, whole: str = "detail") -> str:
    """A pydantic validation error as a refusal's reason: ``field.path: message`` of its first
    problem (``every``: of all of them, joined by ``; ``); a problem of the whole object is named
    ``whole``. One wording for every event and document refused as malformed."""
    problems = exc.errors() if every else exc.errors()[:1]
    return "; ".join(
        f"{'.'.join(str(part) for part in problem.get('loc', ())) or whole}: {problem.get('msg')}"
        for problem in problems
    )


def one_line(exc: Exception, limit: int = 300) -> str:
    """An error's text on one line, at most ``limit`` characters: what a refusal's audit reason
    and DLQ note carry (a pydantic error spans lines)."""
    return str(exc).replace("\n", " ")[:limit]
