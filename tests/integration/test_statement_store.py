"""Statement entries on both engines: written once per transaction, read back with the
profiles a notification needs in one request."""

from datetime import UTC, datetime

from tests.integration.conftest import Stores
from wallet.adapters.statement_store import StatementStore
from wallet.domain.customers import Customer
from wallet.domain.ledger import TransactionKind
from wallet.domain.statements import StatementEntry, statement_entries
from wallet.service.ports import EntryKey

WHEN = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)


def _store(stores: Stores) -> StatementStore:
    return StatementStore(stores.tables.customers, host=stores.tables.endpoint)


def _transfer(transaction_id: str, payer: Customer, payee: Customer, amount: int) -> list[StatementEntry]:
    """The payer's debit and the payee's credit."""
    return statement_entries(
        transaction_id=transaction_id,
        kind=TransactionKind.TRANSFER,
        payer_id=payer.id,
        payee_id=payee.id,
        amount=amount,
        occurred_at=WHEN,
    )


def test_writing_the_entries_of_a_transaction_again_changes_neither_statement(stores: Stores) -> None:
    payer, payee = stores.register(), stores.register()
    [debit, credit] = _transfer("t-1", payer, payee, 1_000)
    statements = _store(stores)

    statements.record([debit, credit], WHEN)
    statements.record([debit, credit], WHEN)

    assert statements.page(payer.id, limit=10, cursor=None).entries == [debit]
    assert statements.page(payee.id, limit=10, cursor=None).entries == [credit]


def test_a_batch_of_entries_and_their_profiles_come_back_in_one_read(stores: Stores) -> None:
    payer, payee = stores.register(), stores.register()
    [debit, credit] = _transfer("t-2", payer, payee, 2_550)
    statements = _store(stores)
    statements.record([debit, credit], WHEN)

    entries, profiles = statements.entries_with_profiles(
        [EntryKey(payee.id, WHEN, "t-2"), EntryKey(payer.id, WHEN, "t-2"), EntryKey(payee.id, WHEN, "t-2")],
        [payee.id, payer.id, payee.id, "no-such-customer"],
    )

    assert sorted(entries, key=lambda entry: entry.role) == sorted(
        [debit, credit], key=lambda entry: entry.role
    )
    assert profiles == {payer.id: stores.customers.get(payer.id), payee.id: stores.customers.get(payee.id)}


def test_an_entry_never_written_is_not_among_those_read(stores: Stores) -> None:
    payee = stores.register()

    entries, profiles = _store(stores).entries_with_profiles(
        [EntryKey(payee.id, WHEN, "never-written")], [payee.id]
    )

    assert entries == []
    assert set(profiles) == {payee.id}


def test_more_keys_than_one_batch_get_takes_are_read_in_several(stores: Stores) -> None:
    """BatchGetItem takes 100 keys; a bigger batch is split rather than refused."""
    payer, payee = stores.register(), stores.register()
    written = [entry for n in range(60) for entry in _transfer(f"t-{n:03}", payer, payee, 100 + n)]
    statements = _store(stores)
    statements.record(written, WHEN)

    entries, profiles = statements.entries_with_profiles(
        [EntryKey(entry.customer_id, WHEN, entry.transaction_id) for entry in written], [payer.id, payee.id]
    )

    assert len(entries) == 120
    assert set(profiles) == {payer.id, payee.id}
