"""Glue's CreationTime/UpdateTime follow the emulated clock (see glue_clock.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from localmesh_support import PRODUCER, table_input

from meshgov_local.accounts import AccountSessions
from meshgov_local.emulator import controls

DAY = 86400


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_partitions_and_table_updates_are_stamped_with_the_emulated_time(
    mesh: AccountSessions,
) -> None:
    # Given a partitioned table, and three days let pass on the emulated clock
    glue = mesh.client(PRODUCER, "glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_table(
        DatabaseName="sales", TableInput=table_input("orders", partition_keys=("day",))
    )
    controls.advance_time(3 * DAY)
    # When a partition is created and the table updated
    glue.create_partition(
        DatabaseName="sales",
        TableName="orders",
        PartitionInput={"Values": ["1"], "StorageDescriptor": {"Columns": []}},
    )
    glue.update_table(
        DatabaseName="sales", TableInput=table_input("orders", partition_keys=("day",))
    )
    # Then both carry the emulated time, not the wall clock's
    now = controls.now()
    (partition,) = glue.get_partitions(DatabaseName="sales", TableName="orders")["Partitions"]
    table = glue.get_table(DatabaseName="sales", Name="orders")["Table"]
    for stamp in (partition["CreationTime"], table["UpdateTime"]):
        assert abs(_utc(stamp) - now) < timedelta(minutes=5)
