"""What must hold after a load run, read back over HTTP (and from ministack's SES capture).

Each customer's balance and statement are read with its own token, as only it may.

- money: every balance is what the clients were told (deposits + credits - debits of the
  201s), and the sum of balances is the sum of deposits, to the centavo;
- statements: every committed transfer has exactly two entries (the payer's debit, the
  payee's credit), every deposit one, nothing else is there;
- e-mails: exactly one per notification (the payee's confirmation, the payer's receipt) of
  each committed transaction, none for a rejected one.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from devstack.wallet_client import Customer, Http
from tests.reliability.aws import Email
from tests.reliability.load import Movement
from wallet.domain.ledger import TransactionKind
from wallet.domain.money import parse_amount

# The largest page the statement route serves (MAX_PAGE_SIZE): the fewest requests per check.
STATEMENT_PAGE = 100


def balance(http: Http, customer: Customer) -> int:
    reply = http.get(f"/customers/{customer.id}/balance", customer.token)
    assert reply.status == 200, reply
    return parse_amount(str(reply.body["balance"]))


@dataclass(frozen=True)
class Money:
    total: int
    deposited: int


def assert_balances_are_what_clients_were_told(
    http: Http, customers: Iterable[Customer], expected: Mapping[str, int], deposited: int
) -> Money:
    actual = {customer.id: balance(http, customer) for customer in customers}
    assert set(actual) == set(expected), "the customers are not those of the books"
    wrong = {c: (actual[c], expected[c]) for c in expected if actual[c] != expected[c]}
    assert not wrong, f"balances (actual, expected) that differ: {wrong}"
    assert all(value >= 0 for value in actual.values()), actual
    total = sum(actual.values())
    assert total == deposited, f"the balances add up to {total} centavos, the deposits to {deposited}"
    return Money(total, deposited)


def statement(http: Http, customer: Customer) -> list[dict[str, str]]:
    entries: list[dict[str, str]] = []
    cursor: str | None = None
    for _ in range(10_000):
        query = f"?limit={STATEMENT_PAGE}" + (f"&cursor={cursor}" if cursor else "")
        reply = http.get(f"/customers/{customer.id}/transactions{query}", customer.token)
        assert reply.status == 200, reply
        entries.extend(reply.body["items"])
        cursor = reply.body.get("next_cursor")
        if not cursor:
            return entries
    raise AssertionError(f"the statement of {customer.id} never ended")


def expected_entries(movements: Iterable[Movement]) -> Counter[tuple[str, str, str]]:
    """(customer, transaction, direction) of each entry the committed movements must have made."""
    expected: Counter[tuple[str, str, str]] = Counter()
    for movement in movements:
        expected[(movement.payee, movement.transaction_id, "credit")] += 1
        if movement.payer is not None:
            expected[(movement.payer, movement.transaction_id, "debit")] += 1
    return expected


def assert_statements_hold_each_committed_transaction_once(
    http: Http, customers: Iterable[Customer], committed: Mapping[str, Movement]
) -> int:
    """Exactly the committed transactions' entries, each once: a rejected one has none."""
    actual: Counter[tuple[str, str, str]] = Counter()
    for customer in customers:
        for entry in statement(http, customer):
            actual[(customer.id, entry["transaction_id"], entry["direction"])] += 1
    expected = expected_entries(committed.values())
    missing = expected - actual
    extra = actual - expected
    assert not missing, f"{len(missing)} statement entries missing, e.g. {list(missing)[:3]}"
    assert not extra, (
        f"{len(extra)} statement entries not of a committed transaction (or twice): {list(extra)[:3]}"
    )
    transfers = [m for m in committed.values() if m.kind is TransactionKind.TRANSFER]
    per_transfer = Counter(transaction for _, transaction, _ in actual.elements())
    assert all(per_transfer[m.transaction_id] == 2 for m in transfers)
    return sum(actual.values())


def expected_emails(movements: Iterable[Movement], email_of: Mapping[str, str]) -> Counter[Email]:
    expected: Counter[Email] = Counter()
    for movement in movements:
        expected[Email(email_of[movement.payee], movement.transaction_id, "payee")] += 1
        if movement.payer is not None:
            expected[Email(email_of[movement.payer], movement.transaction_id, "payer")] += 1
    return expected


def assert_one_email_per_notification(
    emails: Iterable[Email],
    customers: Iterable[Customer],
    committed: Mapping[str, Movement],
    rejected: Mapping[str, Movement],
) -> int:
    email_of = {customer.id: customer.email for customer in customers}
    ours = set(email_of.values())
    actual = Counter(email for email in emails if email.to in ours)
    expected = expected_emails(committed.values(), email_of)
    missing = expected - actual
    duplicates = {email: n for email, n in actual.items() if n > 1}
    strays = set(actual) - set(expected)
    assert not missing, f"{len(missing)} e-mails never sent, e.g. {list(missing)[:3]}"
    assert not duplicates, (
        f"{len(duplicates)} e-mails sent more than once, e.g. {list(duplicates.items())[:3]}"
    )
    assert not strays, f"{len(strays)} e-mails of no committed transaction, e.g. {list(strays)[:3]}"
    about_rejected = {e for e in actual if e.transaction_id in rejected}
    assert not about_rejected, f"e-mails about rejected transactions: {list(about_rejected)[:3]}"
    return sum(actual.values())
