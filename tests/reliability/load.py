"""Load runs over HTTP: a plan of money movements, 8 client threads, and what they were told.

Every movement carries an Idempotency-Key, so its transaction id is known before it is
sent (``transaction_id_for``, keys being scoped by the caller): a rejected transfer can be
checked to have left nothing behind, and a call that got no answer can be retried with the
same key (what a real client does) until it gets a definitive one. A transfer is sent with
its payer's token, a deposit with the payment rail's (its key is the rail's reference).
"""

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from devstack.wallet_client import Customer, Http, NoAnswer, Reply
from tests.reliability.client import Identities
from wallet.domain.ledger import TransactionKind, transaction_id_for
from wallet.domain.money import format_amount

# Concurrent clients of a load run: as many as the benchmarks use.
CLIENTS = 8
# 503s of the contract: definitive answers that nothing was written.
DEFINITIVE_5XX = {"authorizer_unavailable", "store_busy"}
# Before sending again a request that got no definitive answer: a dead worker's replacement
# starts in about that time, and a client retrying faster only adds load.
_RETRY_PAUSE_SECONDS = 0.3


class Replay(StrEnum):
    NONE = "none"
    SAME_BODY = "same_body"
    OTHER_BODY = "other_body"


@dataclass(frozen=True)
class Movement:
    """One planned POST: a transfer or a deposit, with its Idempotency-Key, sent by ``caller``
    (the payer's customer id, or the payment rail's client id) with ``token``."""

    kind: TransactionKind
    key: str
    caller: str
    payer: str | None
    payee: str
    amount: int
    replay: Replay = Replay.NONE
    token: str = field(default="", repr=False, compare=False)

    @property
    def transaction_id(self) -> str:
        return transaction_id_for(self.kind, self.caller, self.key)

    @property
    def path(self) -> str:
        return "/transfers" if self.kind is TransactionKind.TRANSFER else f"/customers/{self.payee}/deposits"

    def body(self, amount: int | None = None) -> dict[str, str]:
        value = format_amount(self.amount if amount is None else amount)
        if self.kind is TransactionKind.DEPOSIT:
            return {"amount": value}
        assert self.payer is not None
        return {"payer": self.payer, "payee": self.payee, "value": value}


def deposits(customers: Iterable[Customer], amount: int, rail: Identities) -> list[Movement]:
    """Money from outside, reported by the payment rail: its reference is the Idempotency-Key."""
    return [
        Movement(
            TransactionKind.DEPOSIT,
            str(uuid.uuid4()),
            rail.rail_id,
            None,
            c.id,
            amount,
            token=rail.rail_token,
        )
        for c in customers
    ]


def transfers(customers: Sequence[Customer], count: int, rng: random.Random) -> list[Movement]:
    """A mix like real traffic, with its share of what the ledger must refuse.

    Mostly small payments between individuals (some accounts run dry: insufficient funds
    arises by itself), plus absurdly large values, payments to oneself and merchants
    trying to send; a few successful ones are replayed with the same and another body.
    """
    senders = [c for c in customers if c.can_send]
    return [_transfer(customers, senders, rng) for _ in range(count)]


def _transfer(customers: Sequence[Customer], senders: Sequence[Customer], rng: random.Random) -> Movement:
    payer = rng.choice(senders)
    payee = rng.choice([c for c in customers if c.id != payer.id])
    roll = rng.random()
    if roll < 0.03:
        payer = rng.choice([c for c in customers if not c.can_send] or senders)
    elif roll < 0.06:
        payee = payer
    amount = rng.randint(10**9, 10**11) if rng.random() < 0.04 else rng.randint(1, 6_000)
    replay_roll = rng.random()
    replay = (
        Replay.SAME_BODY if replay_roll < 0.05 else Replay.OTHER_BODY if replay_roll < 0.07 else Replay.NONE
    )
    key = str(uuid.uuid4())
    return Movement(TransactionKind.TRANSFER, key, payer.id, payer.id, payee.id, amount, replay, payer.token)


@dataclass(frozen=True)
class Outcome:
    movement: Movement
    status: int | None
    error: str | None
    attempts: int
    answered_at: float

    @property
    def committed(self) -> bool:
        return self.status == 201

    @property
    def answered(self) -> bool:
        return self.status is not None


@dataclass(frozen=True)
class ReplayCheck:
    kind: Replay
    held: bool
    detail: str


@dataclass
class LoadRun:
    outcomes: list[Outcome] = field(default_factory=list)
    replays: list[ReplayCheck] = field(default_factory=list)
    unanswered_calls: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome, replay: ReplayCheck | None, unanswered_calls: int) -> None:
        with self._lock:
            self.outcomes.append(outcome)
            if replay is not None:
                self.replays.append(replay)
            self.unanswered_calls += unanswered_calls

    @property
    def done(self) -> int:
        with self._lock:
            return len(self.outcomes)

    def statuses(self) -> dict[str, int]:
        counts = Counter(f"{o.status or 'no answer'} {o.error or ''}".strip() for o in self.outcomes)
        return dict(sorted(counts.items()))


def is_definitive(reply: Reply) -> bool:
    """A 5xx outside the contract (502 of a dead worker, a gateway error) says nothing about the write."""
    return reply.status < 500 or reply.error in DEFINITIVE_5XX


def post_until_definitive(
    http: Http, movement: Movement, body: dict[str, str], max_attempts: int
) -> tuple[Reply | None, int, int]:
    """POST with the Idempotency-Key until a definitive answer; (reply, attempts, unanswered calls)."""
    unanswered = 0
    for attempt in range(1, max_attempts + 1):
        try:
            reply: Reply | None = http.post(
                movement.path, body, movement.token, {"Idempotency-Key": movement.key}
            )
        except NoAnswer:
            reply = None
        if reply is not None and is_definitive(reply):
            return reply, attempt, unanswered
        unanswered += 1
        time.sleep(_RETRY_PAUSE_SECONDS)
    return None, max_attempts, unanswered


def send(http: Http, movement: Movement, max_attempts: int) -> tuple[Reply | None, int, int]:
    return post_until_definitive(http, movement, movement.body(), max_attempts)


def check_replay(http: Http, movement: Movement, original: Reply, max_attempts: int) -> ReplayCheck | None:
    """The same key again: the same body must answer the original 201, another body 409."""
    if movement.replay is Replay.NONE:
        return None
    amount = movement.amount if movement.replay is Replay.SAME_BODY else movement.amount + 1
    again, _, _ = post_until_definitive(http, movement, movement.body(amount), max_attempts)
    if again is None:
        return ReplayCheck(movement.replay, False, "no definitive answer")
    if movement.replay is Replay.SAME_BODY:
        held = again.status == 201 and again.body == original.body
    else:
        held = again.status == 409 and again.error == "idempotency_key_reused"
    return ReplayCheck(movement.replay, held, f"{again.status} {again.body}")


def run_clients(
    http: Http,
    movements: Sequence[Movement],
    *,
    max_attempts: int = 8,
    stop: threading.Event | None = None,
    clients: int = CLIENTS,
    run: LoadRun | None = None,
) -> LoadRun:
    """Send ``movements`` from ``clients`` threads; each thread takes every n-th movement.

    ``stop`` ends the run early (each client finishes its call in flight); ``run`` lets a
    caller watch the outcomes arrive.
    """
    run = run if run is not None else LoadRun()
    halt = stop or threading.Event()

    def client(share: Sequence[Movement]) -> None:
        for movement in share:
            if halt.is_set():
                return
            reply, attempts, unanswered = send(http, movement, max_attempts)
            committed = reply is not None and reply.status == 201
            replay = check_replay(http, movement, reply, max_attempts) if reply and committed else None
            outcome = Outcome(
                movement,
                reply.status if reply else None,
                reply.error if reply else None,
                attempts,
                time.monotonic(),
            )
            run.add(outcome, replay, unanswered)

    started = time.monotonic()
    threads = [
        threading.Thread(target=client, args=(movements[n::clients],), name=f"client-{n}", daemon=True)
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.monotonic() - started
    return run


@dataclass(frozen=True)
class Books:
    """What the clients were told, by transaction id: the money each account must hold."""

    committed: dict[str, Movement]
    rejected: dict[str, Movement]
    unknown: dict[str, Movement]

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> "Books":
        committed: dict[str, Movement] = {}
        rejected: dict[str, Movement] = {}
        unknown: dict[str, Movement] = {}
        for outcome in outcomes:
            target = committed if outcome.committed else rejected if outcome.answered else unknown
            target[outcome.movement.transaction_id] = outcome.movement
        return cls(committed, rejected, unknown)

    def resolved(self, exists: Callable[[Movement], bool | None]) -> "Books":
        """Settle the unknown outcomes by asking whether their transaction exists (None: the
        question got no clear answer either, and the outcome stays unknown)."""
        committed, rejected = dict(self.committed), dict(self.rejected)
        unknown: dict[str, Movement] = {}
        for transaction_id, movement in self.unknown.items():
            found = exists(movement)
            target = unknown if found is None else committed if found else rejected
            target[transaction_id] = movement
        return Books(committed, rejected, unknown)

    def balances(self, customers: Iterable[Customer]) -> dict[str, int]:
        balances = {customer.id: 0 for customer in customers}
        for movement in self.committed.values():
            balances[movement.payee] += movement.amount
            if movement.payer is not None:
                balances[movement.payer] -= movement.amount
        return balances

    @property
    def deposited(self) -> int:
        return sum(m.amount for m in self.committed.values() if m.kind is TransactionKind.DEPOSIT)

    def transfers(self, which: dict[str, Movement]) -> dict[str, Movement]:
        return {t: m for t, m in which.items() if m.kind is TransactionKind.TRANSFER}
