"""The ledger as a Hypothesis state machine, on both real engines (ministack and DynamoDB Local).

Rules go through the service layer exactly as the functions do: customers are registered
(``pending``) and opened by ``apply_customer_registered`` (the sync's use case), money
moves through ``MoneyMovement`` with random amounts (too large ones included), with or
without an Idempotency-Key drawn from a small pool (so keys collide and replay), while
the authorizer allows, denies or is unavailable. A plain model predicts every answer.

After every step: the total of the balances is the total deposited, no balance is
negative, every balance is the model's, every committed transaction has exactly one
TransactionCreated event (alike in kind, parties and amount), and nothing else is there.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import boto3
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.conftest import create_tables
from tests.reliability import figures
from tests.reliability.form import FORM
from tests.support.documents import new_cnpj, new_cpf
from tests.support.ledger_checks import assert_ledger_consistent, table_items
from tests.support.servers import Server
from wallet.adapters.customers_store import CustomersStore
from wallet.adapters.ledger_store import LedgerStore
from wallet.domain.customers import Customer, CustomerType
from wallet.domain.errors import (
    AuthorizerUnavailable,
    CustomerNotActive,
    IdempotencyKeyReused,
    InsufficientFunds,
    MerchantCannotSend,
    SameAccount,
    TransferNotAuthorized,
    WalletError,
)
from wallet.domain.ledger import Transaction, TransactionKind
from wallet.events import CustomerRegistered, parse_event
from wallet.service.money_movement import MoneyMovement, Movement
from wallet.service.registration import register_customer
from wallet.service.sync import apply_customer_registered

pytestmark = pytest.mark.timeout(FORM.stack_test_timeout_seconds * 2)

KEYS = st.none() | st.sampled_from([f"key-{n}" for n in range(6)])
VERDICTS = st.sampled_from(["allow", "allow", "allow", "deny", "unavailable"])
OUTCOMES: Counter[str] = Counter()


class ScriptedAuthorizer:
    """Answers what the rule drew: allow, deny or unavailable."""

    def __init__(self) -> None:
        self.verdict = "allow"

    def authorize(self) -> None:
        if self.verdict == "deny":
            raise TransferNotAuthorized("the authorizer denied the transfer")
        if self.verdict == "unavailable":
            raise AuthorizerUnavailable("the authorizer did not answer", retry_after_seconds=5)


@dataclass(frozen=True)
class Request:
    kind: TransactionKind
    payer: str | None
    payee: str
    amount: int


class LedgerMachine(RuleBasedStateMachine):
    """One example = fresh tables on the engine; the model is plain dicts."""

    endpoint: ClassVar[str]

    pending = Bundle("pending")
    accounts = Bundle("accounts")

    def __init__(self) -> None:
        super().__init__()
        self.tables = create_tables(self.endpoint)
        self.ledger = LedgerStore(self.tables.ledger, host=self.endpoint)
        self.customers = CustomersStore(self.tables.customers, host=self.endpoint)
        self.authorizer = ScriptedAuthorizer()
        self.money = MoneyMovement(self.ledger, self.customers, self.authorizer)
        self.types: dict[str, CustomerType] = {}
        self.balances: dict[str, int] = {}
        self.committed: dict[str, Transaction] = {}
        self.by_key: dict[tuple[TransactionKind, str], tuple[Request, Transaction]] = {}

    # ------------------------------------------------------------------ customers
    def _register(self, customer_type: CustomerType) -> Customer:
        document = new_cnpj() if customer_type is CustomerType.MERCHANT else new_cpf()
        customer = register_customer(
            self.customers,
            name=f"Customer {document}",
            email=f"sm-{document}@example.com",
            document=document,
            type=customer_type,
        )
        self.types[customer.id] = customer_type
        return customer

    def _open(self, customer_id: str) -> None:
        apply_customer_registered(self._registration_event(customer_id), self.ledger, self.customers)
        self.balances[customer_id] = 0

    def _registration_event(self, customer_id: str) -> CustomerRegistered:
        for item in table_items(self.endpoint, self.tables.customers).values():
            if item["entity"] == "outbox":
                event = parse_event(item["payload"])
                if isinstance(event, CustomerRegistered) and event.customer_id == customer_id:
                    return event
        raise AssertionError(f"no CustomerRegistered event for {customer_id}")

    @initialize(target=accounts, funds=st.lists(st.integers(0, 100_000), min_size=2, max_size=2))
    def two_individuals(self, funds: list[int]) -> MultipleResults[str]:
        opened = [self._register(CustomerType.INDIVIDUAL).id for _ in funds]
        for customer, amount in zip(opened, funds, strict=True):
            self._open(customer)
            if amount:
                self._move(Request(TransactionKind.DEPOSIT, None, customer, amount), None)
        return multiple(*opened)

    @rule(target=pending, merchant=st.booleans())
    def register(self, merchant: bool) -> str:
        return self._register(CustomerType.MERCHANT if merchant else CustomerType.INDIVIDUAL).id

    @rule(target=accounts, customer=consumes(pending))
    def sync_opens_the_account(self, customer: str) -> str:
        self._open(customer)
        return customer

    @rule(customer=pending, amount=st.integers(1, 10_000))
    def a_pending_customer_cannot_receive_yet(self, customer: str, amount: int) -> None:
        self._expect_rejection(CustomerNotActive, lambda: self.money.deposit(customer, amount, None))

    # ------------------------------------------------------------------ money
    @rule(customer=accounts, amount=st.integers(1, 500_000), key=KEYS)
    def deposit(self, customer: str, amount: int, key: str | None) -> None:
        self._move(Request(TransactionKind.DEPOSIT, None, customer, amount), key)

    @rule(payer=accounts, payee=accounts, data=st.data(), key=KEYS, verdict=VERDICTS)
    def transfer(self, payer: str, payee: str, data: st.DataObject, key: str | None, verdict: str) -> None:
        balance = self.balances[payer]
        amount = data.draw(
            st.integers(1, max(1, balance)) | st.integers(balance + 1, balance + 10**6), label="amount"
        )
        self.authorizer.verdict = verdict
        self._move(Request(TransactionKind.TRANSFER, payer, payee, amount), key)

    @precondition(lambda self: self.by_key)
    @rule(data=st.data())
    def replay_with_the_same_body(self, data: st.DataObject) -> None:
        kind, key = data.draw(st.sampled_from(sorted(self.by_key)), label="used key")
        request, original = self.by_key[(kind, key)]
        self.authorizer.verdict = "deny"  # a replay must not even ask
        self._move(request, key)
        assert self.committed[original.id] == original

    @precondition(lambda self: self.by_key)
    @rule(data=st.data(), extra=st.integers(1, 1_000))
    def replay_with_another_body(self, data: st.DataObject, extra: int) -> None:
        kind, key = data.draw(st.sampled_from(sorted(self.by_key)), label="used key")
        request, _ = self.by_key[(kind, key)]
        other = Request(request.kind, request.payer, request.payee, request.amount + extra)
        self._move(other, key)

    # ------------------------------------------------------------------ the model
    def _move(self, request: Request, key: str | None) -> None:
        expected = self._predict(request, key)
        # What the ledger held, for the calls that must write nothing (a commit is checked by the invariants).
        before = table_items(self.endpoint, self.tables.ledger) if expected != "commit" else None
        if isinstance(expected, type):
            self._expect_rejection(expected, lambda: self._call(request, key))
            assert table_items(self.endpoint, self.tables.ledger) == before, "a rejection wrote something"
            return
        movement = self._call(request, key)
        if expected == "replay":
            assert key is not None
            assert movement.replayed and movement.transaction == self.by_key[(request.kind, key)][1]
            assert table_items(self.endpoint, self.tables.ledger) == before, "a replay wrote something"
            OUTCOMES[f"{request.kind}: replayed"] += 1
            return
        assert not movement.replayed
        self._book(request, key, movement.transaction)

    def _call(self, request: Request, key: str | None) -> Movement:
        if request.kind is TransactionKind.DEPOSIT:
            return self.money.deposit(request.payee, request.amount, key)
        assert request.payer is not None
        return self.money.transfer(request.payer, request.payee, request.amount, key)

    def _predict(self, request: Request, key: str | None) -> type[WalletError] | str:
        """What the ledger must answer, in the order MoneyMovement checks."""
        if key is not None and (request.kind, key) in self.by_key:
            same = self.by_key[(request.kind, key)][0] == request
            return "replay" if same else IdempotencyKeyReused
        if request.payer is None:
            return "commit"
        if request.payer == request.payee:
            return SameAccount
        if self.types[request.payer] is CustomerType.MERCHANT:
            return MerchantCannotSend
        if self.balances[request.payer] < request.amount:
            return InsufficientFunds
        return {"deny": TransferNotAuthorized, "unavailable": AuthorizerUnavailable}.get(
            self.authorizer.verdict, "commit"
        )

    def _expect_rejection(self, error: type[WalletError], call: Callable[[], object]) -> None:
        with pytest.raises(error):
            call()
        OUTCOMES[error.code] += 1

    def _book(self, request: Request, key: str | None, transaction: Transaction) -> None:
        assert (transaction.kind, transaction.payer_id, transaction.payee_id, transaction.amount) == (
            request.kind,
            request.payer,
            request.payee,
            request.amount,
        )
        self.committed[transaction.id] = transaction
        self.balances[request.payee] += request.amount
        if request.payer is not None:
            self.balances[request.payer] -= request.amount
        if key is not None:
            self.by_key[(request.kind, key)] = (request, transaction)
        OUTCOMES[f"{request.kind}: committed"] += 1

    # ------------------------------------------------------------------ invariants
    @invariant()
    def money_is_conserved_and_each_transaction_has_one_event(self) -> None:
        ledger = assert_ledger_consistent(self.tables)
        assert ledger.balances == self.balances
        assert set(ledger.transactions) == set(self.committed)
        assert ledger.deposited == sum(
            t.amount for t in self.committed.values() if t.kind is TransactionKind.DEPOSIT
        )
        assert all(len(ledger.events_of(t)) == 1 for t in self.committed)

    def teardown(self) -> None:
        client = boto3.client("dynamodb", endpoint_url=self.endpoint)
        for table in (self.tables.customers, self.tables.ledger):
            client.delete_table(TableName=table)


def test_the_ledger_keeps_its_invariants_through_any_sequence_of_operations(engine: Server) -> None:
    LedgerMachine.endpoint = engine.url
    OUTCOMES.clear()
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=FORM.state_machine_examples,
            stateful_step_count=FORM.state_machine_steps,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    engine_name = "dynamodb_local" if "dynamodb" in engine.name else "ministack"
    figures.record(f"ledger_state_machine[{engine_name}]", outcomes=dict(sorted(OUTCOMES.items())))
    assert OUTCOMES["transfer: committed"] > 0
