"""BatchGetPartition ``UnprocessedKeys`` on demand (controls + glue_paging.py).

AWS documents ``UnprocessedKeys`` as "a list of the partition values in the request for which
partitions were not returned" (https://docs.aws.amazon.com/glue/latest/webapi/API_BatchGetPartition.html):
keys left unread, not keys that do not exist.
"""

from __future__ import annotations

from typing import Any

import pytest
from localmesh_support import CENTRAL, PRODUCER, error_code, partition_input, table_input

from meshgov_local.accounts import AccountSessions
from meshgov_local.emulator import controls

KEYS = [[f"{index:03d}"] for index in range(40)]


def _partitioned(mesh: AccountSessions, account: str) -> Any:
    glue = mesh.client(account, "glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_table(
        DatabaseName="sales", TableInput=table_input("orders", partition_keys=("day",))
    )
    glue.batch_create_partition(
        DatabaseName="sales",
        TableName="orders",
        PartitionInputList=[partition_input(*values) for values in KEYS],
    )
    return glue


def _get(glue: Any, keys: list[list[str]]) -> dict[str, Any]:
    response: dict[str, Any] = glue.batch_get_partition(
        DatabaseName="sales",
        TableName="orders",
        PartitionsToGet=[{"Values": values} for values in keys],
    )
    return response


def _values(items: list[dict[str, Any]]) -> list[list[str]]:
    return [list(item["Values"]) for item in items]


def test_by_default_every_requested_key_is_processed(mesh: AccountSessions) -> None:
    # Given 40 partitions
    glue = _partitioned(mesh, PRODUCER)
    # When all of them are asked for, knob untouched
    response = _get(glue, KEYS)
    # Then all come back and none is left unprocessed
    assert sorted(_values(response["Partitions"])) == KEYS
    assert not response.get("UnprocessedKeys")
    assert controls.partition_keys_unprocessed == 0


def test_chosen_keys_are_left_unprocessed_not_reported_absent(mesh: AccountSessions) -> None:
    # Given 40 existing partitions and half of the keys left unprocessed
    glue = _partitioned(mesh, PRODUCER)
    controls.set_unprocessed_partition_rate(0.5, seed=7)
    # When all of them are asked for
    response = _get(glue, KEYS)
    # Then the answer is partial: every key is either returned or listed unprocessed, never both
    returned, unprocessed = _values(response["Partitions"]), _values(response["UnprocessedKeys"])
    assert 0 < len(unprocessed) < len(KEYS)
    assert sorted(returned + unprocessed) == KEYS
    assert not set(map(tuple, returned)) & set(map(tuple, unprocessed))
    assert controls.partition_keys_unprocessed == len(unprocessed)
    # And asking again for the unprocessed keys, knob off, returns them: they exist
    controls.set_unprocessed_partition_rate(0.0)
    again = _get(glue, unprocessed)
    assert sorted(_values(again["Partitions"])) == sorted(unprocessed)
    assert not again.get("UnprocessedKeys")


def test_rate_one_leaves_every_key_unprocessed_only_in_the_chosen_catalogs(
    mesh: AccountSessions,
) -> None:
    # Given the same partitions in the producer's and central's catalogs
    producer, central = _partitioned(mesh, PRODUCER), _partitioned(mesh, CENTRAL)
    # When every key of the central catalog is left unprocessed
    controls.set_unprocessed_partition_rate(1.0, catalogs=[CENTRAL])
    # Then central answers with no partition and every key unprocessed; the producer in full
    on_central = _get(central, KEYS[:5])
    assert on_central["Partitions"] == []
    assert _values(on_central["UnprocessedKeys"]) == KEYS[:5]
    assert sorted(_values(_get(producer, KEYS[:5])["Partitions"])) == KEYS[:5]
    # And reset() turns it off
    controls.reset()
    assert sorted(_values(_get(central, KEYS[:5])["Partitions"])) == KEYS[:5]


def test_the_batch_limit_is_still_checked_first(mesh: AccountSessions) -> None:
    # Given the knob on
    glue = _partitioned(mesh, PRODUCER)
    controls.set_unprocessed_partition_rate(1.0)
    too_many = [[f"{index:05d}"] for index in range(1001)]
    # When a request exceeds the documented 1,000 keys, it fails whole, nothing counted
    assert error_code(lambda: _get(glue, too_many)) == "ValidationException"
    assert controls.partition_keys_unprocessed == 0


def test_rate_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        controls.set_unprocessed_partition_rate(1.5)


def test_unprocessed_keys_through_the_moto_server(served_mesh: AccountSessions) -> None:
    # Given the patched moto server (as `make demo` runs it) and every producer key unprocessed
    glue = _partitioned(served_mesh, PRODUCER)
    controls.set_unprocessed_partition_rate(1.0, catalogs=[PRODUCER])
    # When keys are asked for over HTTP, they come back unprocessed
    response = _get(glue, KEYS[:3])
    assert response["Partitions"] == []
    assert _values(response["UnprocessedKeys"]) == KEYS[:3]
