"""The in-process moto server: serves the patched moto, and always stops."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import boto3
import pytest

from meshgov_local.server import ServerStartError, free_port, moto_server

pytestmark = pytest.mark.e2e


def accepts_connections(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((parts.hostname or "", parts.port or 0)) == 0


def test_server_answers_on_loopback_then_closes_its_port() -> None:
    # Given a server on a free loopback port
    with moto_server() as endpoint:
        # When a client calls it
        sts = boto3.client("sts", endpoint_url=endpoint, region_name="eu-west-1")
        # Then moto answers, on 127.0.0.1
        assert sts.get_caller_identity()["Account"]
        assert urlsplit(endpoint).hostname == "127.0.0.1"
        assert accepts_connections(endpoint)
    # And after the block the port is closed
    assert not accepts_connections(endpoint)


def test_server_stops_on_keyboard_interrupt_and_forgets_its_state() -> None:
    # Given a server holding a resource
    seen: list[str] = []
    with pytest.raises(KeyboardInterrupt), moto_server() as endpoint:
        seen.append(endpoint)
        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="eu-west-1")
        sqs.create_queue(QueueName="left-behind")
        # When the user presses Ctrl-C
        raise KeyboardInterrupt
    # Then the port is closed
    assert not accepts_connections(seen[0])
    # And a new server starts empty
    with moto_server() as endpoint:
        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="eu-west-1")
        assert sqs.list_queues().get("QueueUrls", []) == []


def test_a_taken_port_is_reported_not_waited_on() -> None:
    # Given a port something else listens on
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        # When the server is asked for it, Then it says so at once
        with pytest.raises(ServerStartError), moto_server(port=port):
            pass
