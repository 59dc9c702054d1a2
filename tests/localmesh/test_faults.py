"""Fault injection at the client layer (meshgov_local.faults): each fault reaches botocore as the
real one would, and leaves the emulated account in the state the real one would."""

from __future__ import annotations

import time

import botocore.endpoint
import botocore.retries.bucket
import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

from meshgov.aws.session import AwsSessions, new_session
from meshgov_local.accounts import AccountSessions
from meshgov_local.faults import (
    FaultInjector,
    FaultKind,
    FaultPlan,
    InjectedCrashError,
    during,
)


def _only(kind: FaultKind, rate: float = 1.0, seed: int = 1) -> FaultInjector:
    return FaultInjector(FaultPlan(rate=rate, kinds=(kind,), seed=seed))


def _glue() -> object:
    # A function's client: meshgov's own factory (adaptive retries, 8 retries), built inside the
    # invocation as a handler builds it.
    return AwsSessions(new_session()).client("glue")


def _databases(mesh: AccountSessions) -> set[str]:
    """What the function's account holds, read outside any invocation (never faulted)."""
    glue = AwsSessions(new_session()).client("glue")
    return {d["Name"] for d in glue.get_databases()["DatabaseList"]}


def test_throttling_is_retried_by_botocore_then_surfaces_and_changes_nothing(
    mesh: AccountSessions,
) -> None:
    # Given every request of the function throttled
    injector = _only(FaultKind.THROTTLE)
    started = time.monotonic()
    with injector.armed(), during("Fn"):
        glue = _glue()
        # When it creates a database
        with pytest.raises(ClientError) as caught:
            glue.create_database(DatabaseInput={"Name": "throttled"})  # type: ignore[attr-defined]
    # Then botocore tried 1 + 8 times, backing off (virtually), and the database does not exist
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert caught.value.response["ResponseMetadata"]["MaxAttemptsReached"] is True
    assert injector.stats.requests == 9
    assert injector.stats.injected == {"throttle": 9}
    assert injector.stats.virtual_wait_seconds > 1.0
    assert time.monotonic() - started < injector.stats.virtual_wait_seconds
    assert "throttled" not in _databases(mesh)


def test_occasional_faults_are_absorbed_by_adaptive_retries(mesh: AccountSessions) -> None:
    # Given half of all requests throttled
    injector = _only(FaultKind.THROTTLE, rate=0.5, seed=3)
    with injector.armed(), during("Fn"):
        glue = _glue()
        # When the function makes 30 calls
        for i in range(30):
            glue.create_database(DatabaseInput={"Name": f"db{i}"})  # type: ignore[attr-defined]
    # Then every call succeeded in the end, after retries
    assert _databases(mesh) >= {f"db{i}" for i in range(30)}
    assert injector.stats.injected["throttle"] > 5
    assert injector.stats.requests == 30 + injector.stats.injected["throttle"]


def test_a_connect_timeout_never_reaches_the_service(mesh: AccountSessions) -> None:
    injector = _only(FaultKind.CONNECT_TIMEOUT)
    with injector.armed(), during("Fn"), pytest.raises(ConnectTimeoutError):
        _glue().create_database(DatabaseInput={"Name": "unreached"})  # type: ignore[attr-defined]
    assert "unreached" not in _databases(mesh)


def test_a_read_timeout_loses_the_answer_not_the_work(mesh: AccountSessions) -> None:
    injector = _only(FaultKind.READ_TIMEOUT)
    with injector.armed(), during("Fn"), pytest.raises(ReadTimeoutError):
        _glue().create_database(DatabaseInput={"Name": "done"})  # type: ignore[attr-defined]
    # the first attempt created it; the retries met AlreadyExists behind more timeouts
    assert "done" in _databases(mesh)
    assert injector.stats.requests == 9


def test_server_errors_sometimes_follow_the_work(mesh: AccountSessions) -> None:
    # Given 5xx on every request, half of them after the service did the work
    injector = _only(FaultKind.SERVER_ERROR, seed=5)
    with injector.armed(), during("Fn"):
        glue = _glue()
        for i in range(6):
            with pytest.raises(ClientError) as caught:
                glue.create_database(DatabaseInput={"Name": f"s{i}"})  # type: ignore[attr-defined]
            assert caught.value.response["Error"]["Code"] == "InternalFailure"
            assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    # Then some databases exist (processed before the error), and botocore retried until its
    # client-wide retry quota ran out (500 units, 14 a retry): fewer than 9 attempts each
    created = {f"s{i}" for i in range(6)} & _databases(mesh)
    assert 0 < len(created) <= 6
    assert injector.stats.requests == 6 + 500 // 14


def test_a_crash_comes_after_the_call_and_no_handler_can_catch_it(mesh: AccountSessions) -> None:
    injector = _only(FaultKind.CRASH)
    caught_by_handler = False
    with injector.armed(), during("Fn"), pytest.raises(InjectedCrashError):
        try:
            _glue().create_database(DatabaseInput={"Name": "before"})  # type: ignore[attr-defined]
        except Exception:  # what handler code may write: it must not swallow a crash
            caught_by_handler = True
    assert not caught_by_handler
    assert "before" in _databases(mesh)
    assert injector.stats.requests == 1  # not retried by botocore


def test_requests_outside_a_function_invocation_are_never_faulted(
    mesh: AccountSessions,
) -> None:
    injector = _only(FaultKind.THROTTLE)
    with injector.armed():
        _glue().create_database(DatabaseInput={"Name": "operator"})  # type: ignore[attr-defined]
    assert "operator" in _databases(mesh)
    assert injector.stats.requests == 0


@pytest.mark.parametrize(
    ("service", "code", "status"),
    [
        ("sts", "Throttling", 400),
        ("s3", "SlowDown", 503),
        ("lakeformation", "ThrottlingException", 400),
        ("dynamodb", "ThrottlingException", 400),
    ],
)
def test_throttling_speaks_each_services_protocol(
    mesh: AccountSessions, service: str, code: str, status: int
) -> None:
    calls = {
        "sts": lambda c: c.get_caller_identity(),
        "s3": lambda c: c.list_buckets(),
        "lakeformation": lambda c: c.get_data_lake_settings(),
        "dynamodb": lambda c: c.list_tables(),
    }
    injector = _only(FaultKind.THROTTLE)
    with injector.armed(), during("Fn"):
        client = AwsSessions(new_session()).client(service)
        with pytest.raises(ClientError) as caught:
            calls[service](client)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_disarming_gives_botocore_its_clocks_back(mesh: AccountSessions) -> None:
    import threading

    with _only(FaultKind.THROTTLE).armed():
        assert botocore.endpoint.time is not time
    assert botocore.endpoint.time is time
    assert botocore.retries.bucket.time is time
    assert botocore.retries.bucket.threading is threading


def test_one_injector_at_a_time(mesh: AccountSessions) -> None:
    with (
        _only(FaultKind.THROTTLE).armed(),
        pytest.raises(RuntimeError, match="already armed"),
        _only(FaultKind.CRASH).armed(),
    ):
        pass


def test_a_plan_refuses_impossible_rates() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultPlan(rate=1.5)
    with pytest.raises(ValueError, match="at least one kind"):
        FaultPlan(kinds=())


def test_the_same_seed_draws_the_same_faults() -> None:
    first = FaultInjector(FaultPlan(rate=0.3, seed=42))
    second = FaultInjector(FaultPlan(rate=0.3, seed=42))
    with first.invocation("Fn"), second.invocation("Fn"):
        assert [first.draw() for _ in range(200)] == [second.draw() for _ in range(200)]


# --- through botocore's public events only (issue 17) --------------------------------------------


def test_faults_replace_no_botocore_or_moto_internals(mesh: AccountSessions) -> None:
    from botocore.endpoint import Endpoint
    from botocore.handlers import BUILTIN_HANDLERS
    from moto.core.botocore_stubber import BotocoreStubber

    # Given an armed injector that faults every request of a function
    injector = _only(FaultKind.THROTTLE)
    with injector.armed(), during("Fn"):
        glue = _glue()
        with pytest.raises(ClientError):
            glue.create_database(DatabaseInput={"Name": "x"})  # type: ignore[attr-defined]

        # Then the faults came through the before-send event, with botocore's endpoint and
        # moto's stub left as their libraries define them
        assert injector.stats.injected == {"throttle": 9}
        for owner, name, module in (
            (Endpoint, "_send", "botocore.endpoint"),
            (Endpoint, "_send_request", "botocore.endpoint"),
            (BotocoreStubber, "__call__", "moto.core.botocore_stubber"),
        ):
            method = getattr(owner, name)
            assert (method.__module__, method.__qualname__) == (
                module,
                f"{owner.__name__}.{name}",
            )
        senders = [spec for spec in BUILTIN_HANDLERS if spec[0] == "before-send"]
        assert [spec[1].__module__ for spec in senders] == ["meshgov_local.faults"]


@pytest.mark.parametrize(
    ("kind", "exists", "error"),
    [
        (FaultKind.THROTTLE, False, ClientError),
        (FaultKind.CONNECT_TIMEOUT, False, ConnectTimeoutError),
        (FaultKind.READ_TIMEOUT, True, ReadTimeoutError),
        (FaultKind.CRASH, True, InjectedCrashError),
    ],
)
def test_each_fault_reaches_a_moto_server_as_it_reaches_moto_in_process(
    served_mesh: AccountSessions,
    monkeypatch: pytest.MonkeyPatch,
    kind: FaultKind,
    exists: bool,
    error: type[BaseException],
) -> None:
    # Given a function whose clients reach the moto server (as invoke sets AWS_ENDPOINT_URL)
    assert served_mesh.endpoint_url
    monkeypatch.setenv("AWS_ENDPOINT_URL", served_mesh.endpoint_url)
    injector = _only(kind)

    # When its every request meets the fault
    with injector.armed(), during("Fn"), pytest.raises(error):
        _glue().create_database(DatabaseInput={"Name": "served"})  # type: ignore[attr-defined]

    # Then the server did the work only for the faults that come after it
    assert ("served" in _databases(served_mesh)) is exists
    assert injector.stats.requests == (1 if kind is FaultKind.CRASH else 9)
