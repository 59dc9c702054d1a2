"""``meshgov mesh up``'s loop, in-process: who each log line names, the template's schedules,
the control requests (run a schedule now, move the clock), and a request for a role that does
not exist (issue 17 items 1, 2, 11)."""

from __future__ import annotations

from datetime import timedelta

from meshgov.access.states import RequestState
from meshgov.audit import AuditOutcome
from meshgov_local.control import ControlRequest
from meshgov_local.emulator import controls
from meshgov_local.invocation_log import HandlerResult
from meshgov_local.mesh import LocalMesh
from meshgov_local.schedules import Schedule
from meshgov_local.standalone import MeshRunner, MeshUpOptions, create_readme_roles
from tests.integration.access_helpers import (
    analyst_arn,
    audit,
    central_grants,
    decide,
    links,
    local_grants,
    publish_sales,
    record,
    request,
    request_id,
)


def _runner(mesh: LocalMesh) -> tuple[MeshRunner, list[HandlerResult]]:
    lines: list[HandlerResult] = []
    runner = MeshRunner(mesh, lines.append)
    mesh.router = runner.router  # the mesh's own settle() reports through the runner too
    return runner, lines


def test_member_actions_are_logged_as_the_members_not_centrals(local_mesh: LocalMesh) -> None:
    # Given mesh up's loop on a mesh where a producer publishes a database (central shares it
    # back to the producer, whose member function accepts the invitation and links it)
    runner, lines = _runner(local_mesh)
    publish_sales(local_mesh, tables=1)
    runner.deliver()
    # Then the link is logged as the producer's MemberAccessFunction, in the producer account,
    # as reported to central, and never as one of central's functions
    link_lines = [line for line in lines if "glue:CreateDatabase sales_orders" in line.summary]
    assert link_lines, [line.summary for line in lines]
    assert {line.function for line in link_lines} == {"MemberAccessFunction"}
    assert {line.account for line in link_lines} == {local_mesh.producer}
    assert all(line.reported and "[producer 222222222222]" in line.text() for line in link_lines)
    # And no invocation of a member function that changed things says "no change"
    member = [line for line in lines if line.function == "MemberAccessFunction"]
    assert member and all(line.summary != "no change" for line in member)
    # And each line is one JSON object naming function and account, with its records
    data = link_lines[0].as_dict()
    assert (data["function"], data["account"], data["account_name"]) == (
        "MemberAccessFunction",
        local_mesh.producer,
        "producer",
    )
    assert any(r["action"] == "glue:CreateDatabase" for r in data["records"])


def test_every_schedule_of_the_template_runs_and_time_moves_on_request(
    local_mesh: LocalMesh,
) -> None:
    runner, lines = _runner(local_mesh)
    # The schedules come from template.yaml: four, the member's in every member account
    by_name = {s.name: s for s in runner.schedules}
    members = tuple(m.account_id for m in local_mesh.config.members)
    assert by_name == {
        "SweepSchedule": Schedule(
            "SweepSchedule", "CatalogSweepFunction", "rate(15 minutes)", (local_mesh.central,)
        ),
        "AccessSweepSchedule": Schedule(
            "AccessSweepSchedule", "AccessSweepFunction", "rate(1 hour)", (local_mesh.central,)
        ),
        "AuditDigestSchedule": Schedule(
            "AuditDigestSchedule", "AuditDigestFunction", "rate(1 hour)", (local_mesh.central,)
        ),
        "InvitationSweepSchedule": Schedule(
            "InvitationSweepSchedule", "MemberAccessFunction", "rate(1 hour)", members
        ),
    }
    # And mesh up runs each on its rate scaled (15: the catalog sweep every minute, the hourly
    # ones every 4 minutes), --sweep-every overriding the catalog sweep's
    assert runner.cadence(MeshUpOptions()) == {
        "SweepSchedule": 60.0,
        "AccessSweepSchedule": 240.0,
        "AuditDigestSchedule": 240.0,
        "InvitationSweepSchedule": 240.0,
    }
    assert "SweepSchedule" not in runner.cadence(MeshUpOptions(sweep_every=0))
    assert runner.cadence(MeshUpOptions(schedule_scale=0)) == {}

    # Given an active one-day request
    publish_sales(local_mesh, tables=1)
    create_readme_roles(local_mesh)
    request(local_mesh, tables=["t0"], duration_days=1)
    local_mesh.settle()
    decide(local_mesh, request_id(local_mesh))
    local_mesh.settle()
    rid = request_id(local_mesh)
    assert record(local_mesh, rid).state is RequestState.ACTIVE  # type: ignore[union-attr]
    # When 25 hours pass on request (what `meshgov mesh advance-clock 25h` sends)
    before = controls.now()
    moved = runner.control(ControlRequest("1", "advance-clock", {"duration": "25h"}))
    assert moved["advanced_seconds"] == 25 * 3600
    assert controls.now() - before >= timedelta(hours=25)
    # And the access sweep is run now (`meshgov mesh run-schedule AccessSweepSchedule`)
    ran = runner.control(ControlRequest("2", "run-schedule", {"name": "AccessSweepSchedule"}))
    # Then it ran in central, its result is returned, and the request expired
    assert ran["function"] == "AccessSweepFunction"
    assert [(r["account"], r["failed"]) for r in ran["runs"]] == [(local_mesh.central, False)]
    assert ran["runs"][0]["result"]["expired"] == 1
    assert record(local_mesh, rid).state is RequestState.EXPIRED  # type: ignore[union-attr]
    # And the digest and the members' invitation sweep run too (in every member account)
    digest = runner.control(ControlRequest("3", "run-schedule", {"name": "AuditDigestSchedule"}))
    assert digest["runs"][0]["result"]["digest"]
    invitations = runner.control(
        ControlRequest("4", "run-schedule", {"name": "InvitationSweepSchedule"})
    )
    assert [r["account"] for r in invitations["runs"]] == list(members)
    assert any(line.function == "clock" for line in lines)


def test_a_request_for_a_role_that_does_not_exist_is_refused_and_grants_nothing(
    local_mesh: LocalMesh,
) -> None:
    # Given a published table and a request (sent with any SDK) for a role that does not exist
    publish_sales(local_mesh, tables=1)
    ghost = analyst_arn(local_mesh.consumer, "no-such-role")
    request(local_mesh, tables=["t0"], principal=ghost)
    local_mesh.settle()
    rid = request_id(local_mesh)
    # When the producer approves it
    decide(local_mesh, rid)
    local_mesh.settle()
    # Then the consumer's member function refuses it, audited with its code
    refusals = audit(
        local_mesh, action="lakeformation:BatchGrantPermissions", outcome=AuditOutcome.REFUSED
    )
    assert [r.detail.get("error_code") for r in refusals] == ["PrincipalNotFound"]
    assert "no-such-role" in refusals[0].reason
    # And the request never became active, the role holds nothing, and can-access says no
    assert local_grants(local_mesh, ghost) == {}
    assert not local_mesh.can_access(ghost, "sales_orders", "t0").allowed
    # And central failed it at once (no 12-hour wait for the reshare sweep), took its grants to
    # the consumer account back, and the consumer undid the link it had made
    failed = record(local_mesh, rid)
    assert failed is not None and failed.state is RequestState.FAILED
    assert "no-such-role" in (failed.reason or "")
    assert central_grants(local_mesh) == {}
    assert links(local_mesh) == {}
