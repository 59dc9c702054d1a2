"""The no-op sweep reads central in pages, never table by table (issue 12, item 5; fanned out
since issue 16), and writes nothing."""

from __future__ import annotations

from bench import scenarios


def test_the_noop_sweep_reads_central_once_in_pages_and_writes_nothing() -> None:
    # Given 12 published tables in 2 databases, synced; When the sweep runs again
    result = scenarios.noop_sweep(scenarios.SMOKE, lambda _message: None)
    calls = result["calls"]["by_operation"]
    # Then central is read with one GetDatabases page (the planner) and, per database its work
    # item converges, one GetDatabase and one SearchTables page (up to 1,000 tables a page,
    # filtered on the database: docs/adr/0022-fan-out-sweeps.md), never table by table
    assert calls.get("catalog read central glue:GetDatabases") == 1
    assert calls.get("catalog read central glue:GetDatabase") == 2
    assert calls.get("catalog read central glue:SearchTables") == 2
    central_per_table = ("GetTable", "GetTables", "GetPartitions", "GetResourceLFTags")
    assert not [
        op
        for op in calls
        if op.startswith("catalog read central") and op.split(":")[-1] in central_per_table
    ]
    # And nothing is written, nothing changed
    assert result["noop_sweep_writes"] == 0
    assert result["second_sweep_report"] == {"tables_unchanged": 12}
