"""The ledger as a Hypothesis state machine, on both real engines (ministack and DynamoDB Local).

Rules go through the service layer exactly as the functions do: each customer is a signed-in
person (``tests.support.identities.Person``) registered (``pending``) and opened by
``apply_customer_registered`` (the sync's use case); money moves through ``MoneyMovement``
with random amounts (too large ones included): transfers sent by their payer (naming itself
as payer, or leaving it out), deposits by the payment rail with its reference, with or
without an Idempotency-Key drawn from a small pool shared by every caller (so keys collide
and replay, and the same key from two callers names two unrelated transactions), while the
authorizer allows, denies or is unavailable. A plain model predicts every answer.

One more rule, through the functions' real handlers with the claims API Gateway's JWT
authorizer hands them: a customer acts on another's money (sends it, reads its balance,
statement or customer, looks up a transaction it is no party to, replays another caller's
request with its Idempotency-Key: another's transfer, or the rail's deposit). Each is refused
with the contract's status (403 ``forbidden``, 404 ``customer_not_found`` /
``transaction_not_found``) and leaves both tables identical.

After every step: the total of the balances is the total deposited, no balance is
negative, every balance is the model's, every committed transaction has exactly one
TransactionCreated event (alike in kind, parties and amount), and nothing else is there.
"""

import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

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

from devstack.documents import new_cnpj, new_cpf
from tests.conftest import create_tables
from tests.reliability import figures
from tests.reliability.suite_sizes import SIZES
from tests.support.identities import RAIL_CLIENT_ID, Person
from tests.support.lambda_events import ApiResponse, deposit_event, http_event, invoke
from tests.support.ledger_checks import assert_ledger_consistent, table_items
from tests.support.servers import Server
from wallet import bootstrap
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
from wallet.domain.money import format_amount
from wallet.events import CustomerRegistered, parse_event
from wallet.service.money_movement import MoneyMovement, Movement
from wallet.service.on_customer_registered import apply_customer_registered
from wallet.service.registration import register_customer

pytestmark = pytest.mark.timeout(SIZES.stack_test_timeout_seconds * 2)

KEYS = st.none() | st.sampled_from([f"key-{n}" for n in range(6)])
VERDICTS = st.sampled_from(["allow", "allow", "allow", "deny", "unavailable"])
OUTCOMES: Counter[str] = Counter()
# The handlers never reach the authorizer in the rule that goes through them: a closed port.
UNREACHABLE_AUTHORIZER = "http://127.0.0.1:9"
READ_SUFFIX = {"customer": "", "balance": "/balance", "statement": "/transactions"}
ACTS = st.sampled_from(["replay their key", *READ_SUFFIX, "transaction", "send"])


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
    """A movement as its caller asks it: the payer (the caller itself for a transfer) named in
    the body or left out, which makes no difference to the request."""

    kind: TransactionKind
    caller: str
    payer: str | None
    payee: str
    amount: int
    payer_named: bool = field(default=True, compare=False)


Key = tuple[TransactionKind, str, str]  # (kind, caller, Idempotency-Key): keys are per caller


class LedgerMachine(RuleBasedStateMachine):
    """One example = fresh tables on the engine; the model is plain dicts.

    Ids are random (each run's people are new): draws pick from lists in the order the
    example created them, never sorted, so that Hypothesis replays the same choices alike.
    Hypothesis takes the rules in the order of their names and favours the first: the rule
    on another's money is named so as not to be that one.
    """

    endpoint: ClassVar[str]
    environment: ClassVar[pytest.MonkeyPatch]

    pending = Bundle("pending")
    accounts = Bundle("accounts")

    def __init__(self) -> None:
        super().__init__()
        self.tables = create_tables(self.endpoint)
        self._point_the_functions_at_the_tables()
        self.ledger = LedgerStore(self.tables.ledger, host=self.endpoint)
        self.customers = CustomersStore(self.tables.customers, host=self.endpoint)
        self.authorizer = ScriptedAuthorizer()
        self.money = MoneyMovement(self.ledger, self.customers, self.authorizer)
        self.people: dict[str, Person] = {}
        self.types: dict[str, CustomerType] = {}
        self.balances: dict[str, int] = {}
        self.committed: dict[str, Transaction] = {}
        self.by_key: dict[Key, tuple[Request, Transaction]] = {}

    def _point_the_functions_at_the_tables(self) -> None:
        """The environment the template gives the API functions, for this example's tables; the
        handlers' cached dependencies are rebuilt from it on their first request."""
        self.environment.setenv("CUSTOMERS_TABLE", self.tables.customers)
        self.environment.setenv("LEDGER_TABLE", self.tables.ledger)
        self.environment.setenv("AWS_ENDPOINT_URL_DYNAMODB", self.endpoint)
        self.environment.setenv("AUTHORIZER_URL", UNREACHABLE_AUTHORIZER)
        bootstrap.forget_all()

    # ------------------------------------------------------------------ customers
    def _register(self, customer_type: CustomerType) -> Customer:
        document = new_cnpj() if customer_type is CustomerType.MERCHANT else new_cpf()
        person = Person.new(email=f"sm-{document}@example.com")
        customer = register_customer(
            self.customers, person, name=f"Customer {document}", document=document, type=customer_type
        )
        assert customer.id == person.customer_id
        self.people[customer.id] = person
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
                self._deposit(customer, amount, None)
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
        self._expect_rejection(
            CustomerNotActive, lambda: self.money.deposit(RAIL_CLIENT_ID, customer, amount, _reference())
        )

    # ------------------------------------------------------------------ money
    @rule(customer=accounts, amount=st.integers(1, 500_000), key=KEYS)
    def deposit(self, customer: str, amount: int, key: str | None) -> None:
        self._deposit(customer, amount, key)

    def _deposit(self, customer: str, amount: int, key: str | None) -> None:
        """The rail's reference is its Idempotency-Key: one of the pool (remembered, to be
        replayed), or a fresh one (never seen again)."""
        request = Request(TransactionKind.DEPOSIT, RAIL_CLIENT_ID, None, customer, amount)
        self._move(request, key or _reference(), remember=key is not None)

    @rule(
        payer=accounts,
        payee=accounts,
        data=st.data(),
        key=KEYS,
        verdict=VERDICTS,
        payer_named=st.booleans(),
    )
    def transfer(
        self,
        *,
        payer: str,
        payee: str,
        data: st.DataObject,
        key: str | None,
        verdict: str,
        payer_named: bool,
    ) -> None:
        balance = self.balances[payer]
        amount = data.draw(
            st.integers(1, max(1, balance)) | st.integers(balance + 1, balance + 10**6), label="amount"
        )
        self.authorizer.verdict = verdict
        self._move(Request(TransactionKind.TRANSFER, payer, payer, payee, amount, payer_named), key)

    @precondition(lambda self: self.by_key)
    @rule(data=st.data())
    def replay_with_the_same_body(self, data: st.DataObject) -> None:
        used = data.draw(st.sampled_from(list(self.by_key)), label="used key")
        request, original = self.by_key[used]
        self.authorizer.verdict = (
            "deny"  # a replay answers as its original did, whatever the authorizer says now
        )
        self._move(request, used[2])
        assert self.committed[original.id] == original

    @precondition(lambda self: self.by_key)
    @rule(data=st.data(), extra=st.integers(1, 1_000))
    def replay_with_another_body(self, data: st.DataObject, extra: int) -> None:
        used = data.draw(st.sampled_from(list(self.by_key)), label="used key")
        request, _ = self.by_key[used]
        other = Request(request.kind, request.caller, request.payer, request.payee, request.amount + extra)
        self._move(other, used[2])

    # ------------------------------------------------------------------ another's money
    @precondition(lambda self: len(self.people) >= 2 and self.committed)
    @rule(data=st.data(), act=ACTS)
    def customer_acts_on_anothers_money(self, data: st.DataObject, act: str) -> None:
        """Through the functions' real handlers, as the intruder: refused, nothing written."""
        intruder = data.draw(st.sampled_from(list(self.people)), label="intruder")
        victim = data.draw(st.sampled_from([c for c in self.people if c != intruder]), label="victim")
        person = self.people[intruder]
        theirs = [used for used in self.by_key if used[1] != intruder]
        if act == "replay their key" and theirs:
            # Another caller's request with its key, as is: a transfer from another's account,
            # or a deposit (the rail's alone).
            used = data.draw(st.sampled_from(theirs), label="their key")
            request, key = self.by_key[used][0], used[2]
            value = format_amount(request.amount)
            if request.kind is TransactionKind.DEPOSIT:
                self._intrude(
                    "replay a deposit", 403, "forbidden", _deposit(request.payee, value, key, person)
                )
            else:
                body = {"payer": request.caller, "payee": request.payee, "value": value}
                self._intrude("replay a transfer", 403, "forbidden", _transfer(body, key, person))
        elif act == "transaction":
            # One it is no party to: another's, or (none yet) an id that exists nowhere.
            others = [t for t, tx in self.committed.items() if intruder not in (tx.payer_id, tx.payee_id)]
            transaction = data.draw(st.sampled_from(others), label="transaction") if others else _reference()
            path, parameters = f"/transfers/{transaction}", {"transaction_id": transaction}
            self._intrude(act, 404, "transaction_not_found", _get("get_transfer", path, parameters, person))
        elif act in READ_SUFFIX:
            sample = "get_balance" if act == "balance" else "get_customer"
            path = f"/customers/{victim}{READ_SUFFIX[act]}"
            self._intrude(act, 404, "customer_not_found", _get(sample, path, {"customer_id": victim}, person))
        else:
            payee = data.draw(st.sampled_from(list(self.people)), label="payee")
            amount = data.draw(st.integers(1, 10**6), label="amount")
            body = {"payer": victim, "payee": payee, "value": format_amount(amount)}
            self._intrude("send", 403, "forbidden", _transfer(body, data.draw(KEYS, label="key"), person))

    def _intrude(self, act: str, status: int, code: str, request: "HandlerRequest") -> None:
        """Through the function's real handler: refused as the contract says, nothing written."""
        before = self._snapshot()
        response = invoke(*request)
        assert (response.status, _error_of(response)) == (status, code), (act, response)
        assert self._snapshot() == before, f"{act}: a refusal wrote something"
        OUTCOMES[f"another's money, {act}: {status} {code}"] += 1

    def _snapshot(self) -> dict[str, Any]:
        return {
            table: table_items(self.endpoint, table) for table in (self.tables.customers, self.tables.ledger)
        }

    # ------------------------------------------------------------------ the model
    def _move(self, request: Request, key: str | None, *, remember: bool = True) -> None:
        if any(
            kind == request.kind and used == key and caller != request.caller
            for kind, caller, used in self.by_key
        ):
            # Scoped by caller: the model expects this key to name a transaction of this caller's own.
            OUTCOMES[f"{request.kind}: a key another caller used too"] += 1
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
            assert (
                movement.replayed
                and movement.transaction == self.by_key[(request.kind, request.caller, key)][1]
            )
            assert table_items(self.endpoint, self.tables.ledger) == before, "a replay wrote something"
            OUTCOMES[f"{request.kind}: replayed"] += 1
            return
        assert not movement.replayed
        self._book(request, key if remember else None, movement.transaction)

    def _call(self, request: Request, key: str | None) -> Movement:
        if request.kind is TransactionKind.DEPOSIT:
            assert key is not None
            return self.money.deposit(request.caller, request.payee, request.amount, key)
        payer = request.payer if request.payer_named else None
        return self.money.transfer(request.caller, request.payee, request.amount, key, payer_id=payer)

    def _predict(self, request: Request, key: str | None) -> type[WalletError] | str:
        """What the ledger must answer, in the order MoneyMovement decides: a transfer to oneself
        is refused before anything is read; a used key answers as its original did (or 409 for
        another body), whatever the authorizer says now; then the authorizer; then the one
        conditional write, whose refusal is named from the payer's account."""
        if request.payer is not None and request.payer == request.payee:
            return SameAccount
        if key is not None and (request.kind, request.caller, key) in self.by_key:
            same = self.by_key[(request.kind, request.caller, key)][0] == request
            return "replay" if same else IdempotencyKeyReused
        if request.payer is None:
            return "commit"
        verdict = {"deny": TransferNotAuthorized, "unavailable": AuthorizerUnavailable}
        return verdict.get(self.authorizer.verdict) or self._debit_refusal(request.payer, request.amount)

    def _debit_refusal(self, payer: str, amount: int) -> type[WalletError] | str:
        if self.types[payer] is CustomerType.MERCHANT:
            return MerchantCannotSend
        return InsufficientFunds if self.balances[payer] < amount else "commit"

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
            self.by_key[(request.kind, request.caller, key)] = (request, transaction)
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
    with pytest.MonkeyPatch.context() as environment:
        LedgerMachine.environment = environment
        try:
            run_state_machine_as_test(
                LedgerMachine,
                settings=settings(
                    max_examples=SIZES.state_machine_examples,
                    stateful_step_count=SIZES.state_machine_steps,
                    derandomize=SIZES.state_machine_derandomized,
                    deadline=None,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
                ),
            )
        finally:
            bootstrap.forget_all()
    engine_name = "dynamodb_local" if "dynamodb" in engine.name else "ministack"
    figures.record(f"ledger_state_machine[{engine_name}]", outcomes=dict(sorted(OUTCOMES.items())))
    assert OUTCOMES["transfer: committed"] > 0


# ---------------------------------------------------------------------- requests to the handlers
HandlerRequest = tuple[str, dict[str, Any]]  # (function, its API Gateway v2 event)


def _reference() -> str:
    return str(uuid.uuid4())


def _error_of(response: ApiResponse) -> str | None:
    body = response.json() if response.header("content-type") == "application/json" else None
    return body.get("error") if isinstance(body, dict) else None


def _get(sample: str, path: str, parameters: Mapping[str, str], caller: Person) -> HandlerRequest:
    return "queries", http_event(sample, path=path, path_parameters=parameters, claims=caller.claims)


def _transfer(body: dict[str, str], key: str | None, caller: Person) -> HandlerRequest:
    event = http_event("send_money", body=body, headers={"idempotency-key": key}, claims=caller.claims)
    return "send_money", event


def _deposit(customer: str, amount: str, key: str, caller: Person) -> HandlerRequest:
    return "deposit", deposit_event(customer, {"amount": amount}, key, caller.claims)
