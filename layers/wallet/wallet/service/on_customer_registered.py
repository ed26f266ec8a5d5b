"""Where a CustomerRegistered goes: open the customer's ledger account, then activate it.

Every step is idempotent, so a duplicate delivery, a retry or a sweeper re-drive of the
same event changes nothing the second time.
"""

from collections.abc import Callable
from datetime import datetime

from wallet.events import CustomerRegistered
from wallet.observability import logger
from wallet.service.clock import utc_now
from wallet.service.ports import AccountOpener, Activations


def apply_customer_registered(
    event: CustomerRegistered,
    ledger: AccountOpener,
    customers: Activations,
    now: Callable[[], datetime] = utc_now,
) -> None:
    """Open the ledger account, then activate the customer and mark the event processed.

    The order matters: a customer is never ``active`` without an account. A crash between
    the two steps leaves the event pending; the retry finds the account open and goes on.
    """
    opened = ledger.open_account(event.customer_id, event.type, now())
    activated = customers.activate(event, now())
    logger.info(
        "customer registered applied",
        extra={"customer_id": event.customer_id, "account_opened": opened, "activated": activated},
    )
