"""Properties of the planner: applying a plan reaches the desired state, and re-planning is a no-op.

This is what makes duplicated events harmless: whatever central looked like, one application of
the plan converges, and a second finds nothing to do.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meshgov.catalog.canonical import comparable
from meshgov.catalog.plan import Action, plan_partitions, plan_table

names = st.sampled_from(["id", "amount", "note", "dt", "region", "email"])
types = st.sampled_from(["int", "bigint", "string", "double"])
column_lists = st.lists(st.tuples(names, types), max_size=5, unique_by=lambda c: c[0])
params = st.dictionaries(
    st.sampled_from(["meshgov:owner_contact", "classification", "k", "meshgov:synced_at"]),
    st.text(max_size=5),
    max_size=3,
)


@st.composite
def tables(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "Name": "t",
        "Description": draw(st.sampled_from(["", "orders", "sales orders"])),
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in draw(column_lists)],
            "Location": draw(st.sampled_from(["s3://a/t/", "s3://b/t/"])),
        },
        "PartitionKeys": [{"Name": n, "Type": t} for n, t in draw(column_lists)],
        "Parameters": draw(params),
    }


@settings(max_examples=300, deadline=None)
@given(desired=st.one_of(st.none(), tables()), current=st.one_of(st.none(), tables()))
def test_applying_a_table_plan_converges_and_replanning_is_a_noop(
    desired: dict[str, Any] | None, current: dict[str, Any] | None
) -> None:
    plan = plan_table(desired, current)
    if plan.action is Action.DELETE:
        after = None
    elif plan.action in (Action.CREATE, Action.UPDATE):
        after = plan.table_input
    else:
        after = current
    if desired is None:
        assert after is None
    else:
        assert after is not None
        strip = {"Parameters"}
        assert {k: v for k, v in comparable(after).items() if k not in strip} == {
            k: v for k, v in comparable(desired).items() if k not in strip
        }
    assert plan_table(desired, after).action is Action.NOOP


keys = st.tuples(st.sampled_from(["2026-01", "2026-02", "2026-03", "2026-04"]))
partition_maps = st.dictionaries(
    keys,
    st.sampled_from(["s3://a/", "s3://b/"]).map(
        lambda loc: {"StorageDescriptor": {"Location": loc}}
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(desired=partition_maps, current=partition_maps)
def test_partition_plans_reach_the_desired_set_exactly(
    desired: dict[tuple[str, ...], dict[str, Any]], current: dict[tuple[str, ...], dict[str, Any]]
) -> None:
    desired = {k: {**v, "Values": list(k)} for k, v in desired.items()}
    current = {k: {**v, "Values": list(k)} for k, v in current.items()}
    plan = plan_partitions(desired, current)
    after = dict(current)
    for key in plan.delete:
        del after[key]
    for key, value in plan.update:
        after[key] = value
    for value in plan.create:
        after[tuple(value["Values"])] = value
    assert after == desired
    assert plan_partitions(desired, after).empty
