"""The fault proof: the soak's workload with faults in every AWS call meshgov makes (issue 6).

1. **Faulted run.** The soak's random producer and consumer operations
   (:class:`meshgov_local.soak.Soak`: Glue events dropped, deliveries shuffled and duplicated)
   while a :class:`meshgov_local.faults.FaultInjector` is armed: throttling, 5xx, timeouts and
   crashes between two calls, at the plan's rate, in every function of every account. The
   router retries failed messages as SQS does and parks them in their DLQ after the queue's
   ``maxReceiveCount``; failed schedules are retried twice, then parked in their OnFailure DLQ.
2. **Recovery, faults still on.** What an operator and the schedules do: the catalog sweep, the
   access sweep, the member's invitation sweep, and ``meshgov dlq replay`` of every dead letter
   that is not a refusal (a refusal can never succeed as it is), round after round until a
   round's sweeps all succeed and no such dead letter is left (at most :data:`MAX_ROUNDS`).
3. **The accounts, faults off.** Read, never repaired:

   - **lost**: deliveries the router made that no function ever handled and that are neither
     queued nor parked in a DLQ (:class:`meshgov_local.router.DeliveryLedger`);
   - **unrecovered**: dead letters other than refusals still parked after the recovery;
   - **diffs**: central differs from what producers publish, or a grant no live request
     explains (the soak's two properties);
   - **partial state**: a request left in a working state (``REQUESTED``, ``APPROVED``,
     ``GRANTED``), an audit chain that does not verify, or a further sweep that still finds
     something to change (the sync ledger disagreeing with the catalogs).

Each list must be empty. Nothing here repairs state: the recovery is the same sweeps and replays
a platform team runs, through the same handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meshgov.access.states import RequestState
from meshgov.audit.dynamodb import verify_trail
from meshgov.deadletters import (
    INVOCATION_DLQS,
    SOURCE_QUEUES,
    DeadLetter,
    DeadLetterQueue,
    LetterKind,
)
from meshgov_local.emulator import controls
from meshgov_local.faults import FaultInjector, FaultPlan
from meshgov_local.mesh import ACCESS_SWEEP_FUNCTION, LocalMesh
from meshgov_local.router import Delivery, event_id
from meshgov_local.soak import Soak

MAX_ROUNDS = 12
WORKING_STATES = frozenset({RequestState.REQUESTED, RequestState.APPROVED, RequestState.GRANTED})
# What a sweep that finds nothing to do reports as zero.
SWEEP_CHANGES = (
    "databases_created",
    "databases_updated",
    "databases_deleted",
    "tables_created",
    "tables_updated",
    "tables_deleted",
    "partitions_created",
    "partitions_updated",
    "partitions_deleted",
    "tag_changes",
)


@dataclass
class FaultProofResult:
    seed: int
    operations: int
    rate: float
    faults: dict[str, Any] = field(default_factory=dict)
    deliveries: int = 0
    failed_deliveries: int = 0  # a message of a failed batch, once per attempt
    dead_letters_replayed: int = 0
    recovery_rounds: int = 0
    refused_parked: int = 0
    lost: list[str] = field(default_factory=list)
    unrecovered: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    partial_state: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "operations": self.operations,
            "rate": self.rate,
            "faults": self.faults,
            "deliveries": self.deliveries,
            "failed_deliveries": self.failed_deliveries,
            "dead_letters_replayed": self.dead_letters_replayed,
            "recovery_rounds": self.recovery_rounds,
            "refused_parked": self.refused_parked,
            "counts": {
                "lost": len(self.lost),
                "unrecovered": len(self.unrecovered),
                "diffs": len(self.diffs),
                "partial_state": len(self.partial_state),
            },
            "lost": self.lost[:20],
            "unrecovered": self.unrecovered[:20],
            "diffs": self.diffs[:20],
            "partial_state": self.partial_state[:20],
            "requests_by_state": self.requests,
        }


@dataclass
class Accounting:
    lost: list[Delivery] = field(default_factory=list)  # neither handled, queued nor parked
    unrecovered: list[str] = field(default_factory=list)  # parked, and not refusals
    refused: int = 0  # parked as refusals (they can never succeed as they are)


class FaultProof:
    """One seeded faulted run on one mesh."""

    def __init__(self, mesh: LocalMesh, seed: int, plan: FaultPlan) -> None:
        self.mesh = mesh
        self.seed = seed
        self.plan = plan
        self.soak = Soak(mesh, seed)
        self.injector = FaultInjector(plan)
        self.replayed = 0

    def run(
        self, operations: int, progress: Callable[[str], None] | None = None
    ) -> FaultProofResult:
        self.soak.setup()  # the people's own setup: never faulted
        with self.injector.armed():
            self.soak.drive(operations, progress=progress)
            rounds = self.recover()
        return self.check(operations, rounds)

    # --- recovery: the schedules and the operator, faults still on ------------------------------
    def recover(self) -> int:
        mesh = self.mesh
        for round_ in range(1, MAX_ROUNDS + 1):
            ok = mesh.sweep() is not None
            mesh.settle()
            ok = mesh.router.run_schedule(ACCESS_SWEEP_FUNCTION) is not None and ok
            mesh.settle()
            ok = mesh.invitation_sweep(mesh.consumer) is not None and ok
            waiting = self.transient_letters()
            if ok and not waiting:
                return round_
            for queue, letters in waiting:
                mesh.replay_dead_letters(
                    queue.name,
                    [letter.message_id for letter in letters],
                    dry_run=False,
                    account_id=queue.account_id,
                    actor="meshgov:fault-proof",
                )
                self.replayed += len(letters)
            mesh.settle()
        return MAX_ROUNDS + 1

    def letters(self) -> list[tuple[DeadLetterQueue, list[DeadLetter]]]:
        office = self.mesh.dead_letter_office()
        return [(queue, office.list(queue)) for queue in self.mesh.dead_letter_queues()]

    def transient_letters(self) -> list[tuple[DeadLetterQueue, list[DeadLetter]]]:
        """Dead letters a replay may still fix (everything but refusals)."""
        found = []
        for queue, letters in self.letters():
            kept = [letter for letter in letters if letter.kind is not LetterKind.REFUSED]
            if kept:
                found.append((queue, kept))
        return found

    # --- the accounts, faults off ------------------------------------------------------------
    def account(self) -> Accounting:
        """Every delivery the router made: handled, queued, parked, or lost."""
        ledger = self.mesh.router.ledger
        parked: set[Delivery] = set()
        accounting = Accounting()
        for queue, letters in self.letters():
            for letter in letters:
                parked.add(self.delivery_of(queue, letter))
                if letter.kind is LetterKind.REFUSED:
                    accounting.refused += 1
                else:
                    accounting.unrecovered.append(
                        f"{queue.name}@{queue.account_id}: {letter.summary}"
                    )
        accounting.lost = sorted(ledger.unfinished() - parked - self.queued())
        return accounting

    def check(self, operations: int, rounds: int) -> FaultProofResult:
        mesh = self.mesh
        accounting = self.account()
        soaked = self.soak.check(operations)
        partial = [
            f"request {record.request_id} left {record.state.value}"
            for record in mesh.requests()
            if record.state in WORKING_STATES
        ]
        partial += self.audit_problems()
        partial += self.sweep_changes()  # the one check that runs a function (faults off)
        return FaultProofResult(
            seed=self.seed,
            operations=operations,
            rate=self.plan.rate,
            faults=self.injector.stats.as_dict(),
            deliveries=len(mesh.router.ledger.delivered),
            failed_deliveries=mesh.router.ledger.failures,
            dead_letters_replayed=self.replayed,
            recovery_rounds=rounds,
            refused_parked=accounting.refused,
            lost=[f"{d.function}@{d.account_id}: event {d.event_id}" for d in accounting.lost],
            unrecovered=accounting.unrecovered,
            diffs=[*soaked.catalog_differences, *soaked.unexplained_grants],
            partial_state=partial,
            requests=soaked.requests,
        )

    def delivery_of(self, queue: DeadLetterQueue, letter: DeadLetter) -> Delivery:
        """The delivery a dead letter stands for: the function it was meant for, the event."""
        ident = letter.correlation_id or letter.message_id
        if queue.name in INVOCATION_DLQS:
            return Delivery(queue.account_id, letter.source, ident)
        source = SOURCE_QUEUES.get(queue.name, "")
        for binding in self.mesh.deployment.all_functions():
            owner = binding.account_id or self.mesh.central
            if owner == queue.account_id and binding.source_queue_logical_id == source:
                return Delivery(queue.account_id, binding.logical_id, ident)
        return Delivery(queue.account_id, queue.name, ident)

    def queued(self) -> set[Delivery]:
        """Deliveries still waiting in a function's source queue (looked at, not consumed)."""
        waiting: set[Delivery] = set()
        for binding in self.mesh.deployment.all_functions():
            if not binding.source_queue_logical_id:
                continue
            account = binding.account_id or self.mesh.central
            for message in self.mesh.dead_letters(binding.source_queue_logical_id, account):
                ident = event_id(message["Body"], message["MessageId"])
                waiting.add(Delivery(account, binding.logical_id, ident))
        return waiting

    def audit_problems(self) -> list[str]:
        verdict, _ = verify_trail(
            self.mesh.client(self.mesh.central, "dynamodb"),
            self.mesh.deployment.audit_table_name,
        )
        if verdict.ok:
            return []
        problem = verdict.problem
        where = f"{problem.kind} at {problem.seq}: {problem.message}" if problem else "failed"
        return [f"audit chain: {where}"]

    def sweep_changes(self) -> list[str]:
        report = self.mesh.sweep()
        if report is None:
            return ["the final sweep failed without faults"]
        return [
            f"a further sweep still made {key}={report[key]}"
            for key in SWEEP_CHANGES
            if report.get(key)
        ]


def fault_proof(
    seed: int,
    operations: int,
    rate: float = 0.05,
    progress: Callable[[str], None] | None = None,
) -> FaultProofResult:
    """One seeded faulted run on a fresh in-process mesh (moto and the emulator reset)."""
    from moto import mock_aws

    controls.reset()
    try:
        with mock_aws():
            return FaultProof(LocalMesh(), seed, FaultPlan(rate=rate, seed=seed)).run(
                operations, progress
            )
    finally:
        controls.reset()


__all__ = ["FaultProof", "FaultProofResult", "fault_proof"]
