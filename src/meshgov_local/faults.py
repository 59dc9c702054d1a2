"""Fault injection at the AWS client layer: what the proof that nothing is lost stands on.

Local-mesh side only: Lambda code never imports this module. While a :class:`FaultInjector` is
armed and a function of the mesh runs (:func:`meshgov_local.invoke.invoke` enters
:func:`during`), every HTTP request its clients send (every *attempt*: botocore's retries go
through the transport again) meets, with the plan's probability, one fault:

=================== ===========================================================================
fault               what the function's client sees
=================== ===========================================================================
``throttle``        the service's throttling error: HTTP 400 ``ThrottlingException`` (``Throttling``
                    for the query-protocol STS and IAM), HTTP 503 ``SlowDown`` for S3
``server-error``    HTTP 500 ``InternalFailure`` (``InternalError`` for S3); half of them *after*
                    the service did the work ("Requests that receive an InternalError response
                    might not have processed", Amazon S3 error best practices)
``connect-timeout`` ``ConnectTimeoutError``: the request never reached the service
``read-timeout``    ``ReadTimeoutError`` after the service did the work: the answer was lost
``crash``           the call succeeds, then the function's sandbox dies before its next call
                    (:class:`InjectedCrashError`), as a Lambda timeout or out-of-memory kill
                    would: it is not an ``Exception``, so no handler code can catch it
=================== ===========================================================================

Error and status codes are AWS's common errors ("ThrottlingException ... HTTP Status Code: 400",
"InternalFailure ... 500", https://docs.aws.amazon.com/athena/latest/APIReference/CommonErrors.html,
the page every service's API reference shares) and S3's
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/ErrorBestPractices.html). The first four
reach botocore's retry handler as real ones would: meshgov's clients retry, Glue's and Lake
Formation's in adaptive mode, the others in standard mode (:mod:`meshgov.aws.session`;
``max_attempts`` 8 counts retries, so 9 requests at most) within botocore's client-wide retry
quota. A crash is not botocore's to retry: the invocation fails
and the Lambda service's own retries take over (SQS redelivery, then the queue's redrive policy
to its DLQ; for schedules two asynchronous retries, then the ``OnFailure`` DLQ), which
:mod:`meshgov_local.router` emulates.

**Virtual time.** botocore waits between attempts (jittered exponential backoff, a 1-second base
for throttling) and, in adaptive mode, its token bucket makes a client wait for capacity after a
throttle. Thousands of faults would cost hours of real waiting, so while armed those waits advance
a virtual clock instead; :attr:`FaultStats.virtual_wait_seconds` says how long they would have
been. Only botocore's clocks are virtual: the emulator's own clock (RAM invitation expiry,
request expiry) does not move.

**Where.** Through botocore's public events only
(https://docs.aws.amazon.com/botocore/latest/topics/events.html): one ``before-send`` handler,
the last of every session, *is* the transport while armed. In-process (``mock_aws``) it forwards
the request to moto's in-process answerer, whose place it takes; against a moto server it
returns None and botocore sends the request, except when a fault needs the service to do the
work first, which it then sends itself. Requests made outside a function invocation (the people,
the router, the checks) are never faulted. botocore (whose event order and retry clocks this
relies on) is pinned in pyproject.toml, and :func:`install` refuses any other version.
"""

from __future__ import annotations

import io
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

import botocore.endpoint
import botocore.handlers
import botocore.retries.bucket
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from botocore.httpsession import URLLib3Session

from meshgov_local.pins import require_pinned


class FaultKind(StrEnum):
    THROTTLE = "throttle"
    SERVER_ERROR = "server-error"
    CONNECT_TIMEOUT = "connect-timeout"
    READ_TIMEOUT = "read-timeout"
    CRASH = "crash"


class InjectedCrashError(BaseException):
    """The function's sandbox died between two calls (a timeout, an out-of-memory kill).

    A ``BaseException`` on purpose: handler code that catches ``Exception`` must not be able to
    turn a crash into a handled failure, as it could not on Lambda.
    """


@dataclass(frozen=True)
class FaultPlan:
    """How often and which faults: ``rate`` is the chance that one request meets a fault."""

    rate: float = 0.05
    kinds: tuple[FaultKind, ...] = tuple(FaultKind)
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {self.rate}")
        if not self.kinds:
            raise ValueError("a fault plan needs at least one kind of fault")


@dataclass
class FaultStats:
    requests: int = 0  # requests the functions sent while armed (every attempt)
    injected: Counter[str] = field(default_factory=Counter)  # by FaultKind value
    by_operation: Counter[str] = field(default_factory=Counter)  # "glue:CreateTable" -> faults
    virtual_wait_seconds: float = 0.0  # what botocore's backoff and token bucket would have slept

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "faults": sum(self.injected.values()),
            "by_kind": dict(sorted(self.injected.items())),
            "top_operations": dict(self.by_operation.most_common(10)),
            "virtual_wait_seconds": round(self.virtual_wait_seconds, 1),
        }


# --- the error responses -------------------------------------------------------------------------


class _Body(io.BytesIO):
    """A raw HTTP body as botocore reads it (``stream()``)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def _error_code(kind: FaultKind, signing_name: str, protocol: str) -> tuple[int, str]:
    if signing_name == "s3":
        return (503, "SlowDown") if kind is FaultKind.THROTTLE else (500, "InternalError")
    if kind is FaultKind.THROTTLE:
        return 400, "Throttling" if protocol == "query" else "ThrottlingException"
    return 500, "InternalFailure"


def error_response(
    url: str, kind: FaultKind, signing_name: str, protocol: str, message: str
) -> AWSResponse:
    """The HTTP response a service sends for ``kind``, in its protocol's error format."""
    status, code = _error_code(kind, signing_name, protocol)
    request_id = f"fault-{random.getrandbits(48):012x}"
    headers = {"x-amzn-RequestId": request_id}
    if protocol in ("query", "rest-xml"):
        error = f"<Code>{code}</Code><Message>{message}</Message>"
        if protocol == "query":
            body = (
                f"<ErrorResponse><Error><Type>Sender</Type>{error}</Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            )
        else:
            body = f"<Error>{error}<RequestId>{request_id}</RequestId></Error>"
        headers["Content-Type"] = "text/xml"
    else:  # json, rest-json
        body = json.dumps({"__type": code, "message": message})
        headers["Content-Type"] = "application/x-amz-json-1.1"
        headers["x-amzn-ErrorType"] = code
    # AWSResponse keeps headers in its own case-insensitive HeadersDict.
    return AWSResponse(url, status, cast(Any, headers), _Body(body.encode()))


# --- virtual time for botocore -------------------------------------------------------------------


class _VirtualTime:
    """The ``time`` module as botocore's endpoint and token bucket see it while armed."""

    def __init__(self, stats: FaultStats, lock: threading.Lock) -> None:
        self._stats = stats
        self._lock = lock
        self._offset = 0.0

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._offset += max(0.0, float(seconds))
            self._stats.virtual_wait_seconds += max(0.0, float(seconds))

    def time(self) -> float:
        return time.time() + self._offset

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class _VirtualThreading:
    """``threading`` for botocore's token bucket: a condition's timed wait passes virtually."""

    def __init__(self, clock: _VirtualTime) -> None:
        clock_ = clock

        class Condition(threading.Condition):
            def wait(self, timeout: float | None = None) -> bool:
                clock_.sleep(timeout or 0.0)
                return False

        self.Condition = Condition

    def __getattr__(self, name: str) -> Any:
        return getattr(threading, name)


# --- the injector --------------------------------------------------------------------------------

Transport = Callable[[], Any]
Operation = tuple[str, str, str]  # signing name, operation name, protocol


class FaultInjector:
    """Draws faults for the requests of function invocations, reproducibly from the plan's seed."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.stats = FaultStats()
        self._random = random.Random(plan.seed)
        self._lock = threading.Lock()
        self._function: str | None = None

    @property
    def in_invocation(self) -> bool:
        return self._function is not None

    @contextmanager
    def invocation(self, function: str) -> Iterator[None]:
        outer, self._function = self._function, function
        try:
            yield
        finally:
            self._function = outer

    def draw(self) -> FaultKind | None:
        with self._lock:
            self.stats.requests += 1
            if self._random.random() >= self.plan.rate:
                return None
            return self.plan.kinds[self._random.randrange(len(self.plan.kinds))]

    def send(
        self, request: Any, operation: Operation, forward: Transport, work: Transport
    ) -> AWSResponse | None:
        """One attempt of ``operation`` (signing name, name, protocol), maybe faulted.

        ``forward`` is what an unfaulted request gets (moto's answer in-process; None against a
        server, so botocore sends it); ``work`` has the service do the request, its answer lost.
        """
        fault = self.draw() if self.in_invocation else None
        if fault is None:
            answer: AWSResponse | None = forward()
            return answer
        signing_name, name, protocol = operation
        with self._lock:
            self.stats.injected[fault.value] += 1
            self.stats.by_operation[f"{signing_name}:{name}"] += 1
        url = str(request.url)
        if fault is FaultKind.CONNECT_TIMEOUT:
            raise ConnectTimeoutError(endpoint_url=url)
        if fault is FaultKind.THROTTLE:
            return error_response(url, fault, signing_name, protocol, "Rate exceeded (injected)")
        if fault is FaultKind.SERVER_ERROR:
            if self._random.random() < 0.5:
                work()  # the service did the work; the answer is an error all the same
            return error_response(url, fault, signing_name, protocol, "Internal failure (injected)")
        work()  # the service does the work...
        if fault is FaultKind.READ_TIMEOUT:
            raise ReadTimeoutError(endpoint_url=url)  # ...and the answer is lost
        raise InjectedCrashError(f"{self._function} crashed after {signing_name}:{name} (injected)")

    @contextmanager
    def armed(self) -> Iterator[FaultInjector]:
        """Turn the transport hooks on and botocore's clocks virtual for the duration."""
        install()
        with _ARM_LOCK:
            if _armed:
                raise RuntimeError("a fault injector is already armed")
            clock = _VirtualTime(self.stats, self._lock)
            replaced: list[tuple[Any, str, Any]] = [
                (botocore.endpoint, "time", clock),
                (botocore.retries.bucket, "time", clock),
                (botocore.retries.bucket, "threading", _VirtualThreading(clock)),
            ]
            saved = [(module, name, getattr(module, name)) for module, name, _ in replaced]
            for module, name, value in replaced:
                setattr(module, name, value)
            _armed.append(self)
        try:
            yield self
        finally:
            with _ARM_LOCK:
                _armed.remove(self)
                for module, name, value in saved:
                    setattr(module, name, value)


_ARM_LOCK = threading.Lock()
_armed: list[FaultInjector] = []


@contextmanager
def during(function: str) -> Iterator[None]:
    """Around one invocation of ``function``: its requests may meet faults (when armed)."""
    if not _armed:
        yield
        return
    with _armed[-1].invocation(function):
        yield


# --- the hook (installed once by :func:`install`, inert unless an injector is armed) -------------

# Service id (hyphenized, as event names carry it) -> (signing name, protocol): before-send names
# the operation but not these, which the error responses need.
_services: dict[str, tuple[str, str]] = {}
_http: list[URLLib3Session] = []  # one HTTP session for the work of faulted requests to a server
_moto: list[Any] = []  # moto's in-process answerer (moto.core.models.botocore_stubber), once known


def _remember_service(model: Any, **_: Any) -> None:
    """``before-call``: note the service's signing name and protocol (the operation model)."""
    service = model.service_model
    _services.setdefault(
        str(service.service_id.hyphenize()),
        (str(service.signing_name), str(service.resolved_protocol)),
    )


def _moto_answer(request: AWSPreparedRequest, event_name: str) -> AWSResponse | None:
    """What moto answers in-process (``mock_aws``); None when it is not mocking, so botocore
    sends the request over HTTP (to a moto server)."""
    answer: AWSResponse | None = _moto[0](event_name, request)
    return answer


def _over_http(request: AWSPreparedRequest) -> None:
    """Send ``request`` to the server as botocore would have, and drop the answer."""
    if not _http:
        _http.append(URLLib3Session())
    _http[0].send(request).content  # noqa: B018 - read: the answer is lost, not left pending


def _transport(request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse | None:
    """The last ``before-send`` handler of every session: the request meets its fault here."""
    injector = _armed[-1] if _armed else None
    service_id, name = event_name.split(".", 2)[1:]
    known = _services.get(service_id)
    if injector is None or known is None:
        return _moto_answer(request, event_name)
    signing_name, protocol = known

    def work() -> None:
        if _moto_answer(request, event_name) is None:
            _over_http(request)

    return injector.send(
        request, (signing_name, name, protocol), lambda: _moto_answer(request, event_name), work
    )


_install_lock = threading.Lock()


def install() -> None:
    """Register the hooks with botocore, once; :meth:`FaultInjector.armed` turns them on.

    botocore gives every new session the handlers of ``botocore.handlers.BUILTIN_HANDLERS``
    (moto's in-process mock registers itself there too). Faults are injected through two public
    events (https://docs.aws.amazon.com/botocore/latest/topics/events.html): ``before-call``
    (the operation model) and ``before-send``, whose handler "allows a response to be returned
    that fulfills the request" and may raise instead. botocore calls *every* ``before-send``
    handler, so moto's own handler would still serve a request a fault answered: this one takes
    its place in the list and forwards to it, registered last (after adaptive mode's rate
    limiter, as the transport comes after it). Raises
    :class:`meshgov_local.pins.PinMismatchError` for a botocore other than the pinned one.
    """
    from moto.core.models import botocore_stubber

    with _install_lock:
        builtin = botocore.handlers.BUILTIN_HANDLERS
        if any(spec[1] is _transport for spec in builtin):
            return
        require_pinned("botocore", "the fault injector (meshgov_local.faults)")
        _moto[:] = [botocore_stubber]
        builtin[:] = [spec for spec in builtin if spec[1] is not botocore_stubber]
        builtin.append(("before-call", _remember_service))
        builtin.append(("before-send", _transport, botocore.handlers.REGISTER_LAST))
