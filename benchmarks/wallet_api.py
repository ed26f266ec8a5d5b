"""The wallet as a client sees it, over HTTP: customers, deposits, transfers, the e-mails sent.

Every request is a real HTTP request to the deployed API (through the local pass-through
gateway unless told otherwise); e-mails are read from ministack's SES capture endpoint.
"""

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.common import HttpClient, Pool, Reply, get_json, run_concurrently, wait_until
from tests.support.documents import new_cnpj, new_cpf

SETUP_CLIENTS = 8
FUNDING = "1000000.00"


@dataclass(frozen=True)
class Customer:
    id: str
    email: str
    type: str


class WalletApi:
    """The API at ``url``; ``aws_url`` is ministack (for its SES inbox).

    Counts the e-mails the pipeline owes (one per deposit, two per transfer: the payee's
    confirmation and the payer's receipt), so ``drain`` can wait until it has caught up.
    """

    def __init__(self, url: str, aws_url: str, owed: "_Owed | None" = None) -> None:
        self.url = url
        self.aws_url = aws_url
        self._clients = Pool(lambda: HttpClient(url))
        self._owed = owed or _Owed()

    def with_url(self, url: str) -> "WalletApi":
        """The same stack reached at another address (e.g. execute-api without the gateway)."""
        return WalletApi(url, self.aws_url, self._owed)

    def call(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> Reply:
        with self._clients.borrow() as client:
            return client.call(method, path, body, headers)

    def close(self) -> None:
        for client in self._clients.every():
            client.close()

    # ------------------------------------------------------------------ customers

    def register(self, customer_type: str = "individual") -> Customer:
        email = f"bench-{uuid.uuid4().hex[:16]}@example.com"
        document = new_cnpj() if customer_type == "merchant" else new_cpf()
        body = {"name": "Cliente Benchmark", "email": email, "document": document, "type": customer_type}
        reply = self.call("POST", "/customers", body)
        if reply.status != 201:
            raise RuntimeError(f"registration answered {reply.status}: {reply.body}")
        return Customer(reply.body["id"], email, customer_type)

    def register_many(self, count: int, customer_type: str = "individual") -> list[Customer]:
        run = run_concurrently(range(count), SETUP_CLIENTS, lambda _: self.register(customer_type))
        self.wait_active([customer.id for customer in run.results])
        return run.results

    def wait_active(self, customer_ids: Sequence[str], timeout_seconds: float = 120) -> None:
        """Until the sync has opened every account (customers are ``pending`` until then)."""
        waiting = list(customer_ids)

        def still_pending() -> bool | None:
            nonlocal waiting
            statuses = run_concurrently(
                waiting, SETUP_CLIENTS, lambda customer_id: (customer_id, self.status(customer_id))
            ).results
            waiting = [customer_id for customer_id, status in statuses if status != "active"]
            return True if not waiting else None

        wait_until(still_pending, timeout_seconds, pause_seconds=0.5)

    def status(self, customer_id: str) -> str:
        reply = self.call("GET", f"/customers/{customer_id}")
        if reply.status != 200:
            raise RuntimeError(f"GET customer answered {reply.status}: {reply.body}")
        status: str = reply.body["status"]
        return status

    def deposit(self, customer_id: str, amount: str = FUNDING) -> None:
        reply = self.call("POST", f"/customers/{customer_id}/deposits", {"amount": amount})
        if reply.status != 201:
            raise RuntimeError(f"deposit answered {reply.status}: {reply.body}")
        self.owe_emails(1)

    def fund(self, customers: Sequence[Customer], amount: str = FUNDING) -> None:
        run_concurrently(customers, SETUP_CLIENTS, lambda customer: self.deposit(customer.id, amount))

    # ------------------------------------------------------------------ money

    def transfer(self, payer: str, payee: str, value: str = "1.00") -> Reply:
        """POST /transfers as a careful client sends it: with an Idempotency-Key."""
        reply = self.call(
            "POST",
            "/transfers",
            {"payer": payer, "payee": payee, "value": value},
            {"Idempotency-Key": str(uuid.uuid4())},
        )
        if reply.status == 201:
            self.owe_emails(2)
        return reply

    # ------------------------------------------------------------------ e-mails

    def owe_emails(self, count: int) -> None:
        self._owed.add(count)

    @property
    def emails_owed(self) -> int:
        return self._owed.total

    def emails(self) -> list[dict[str, Any]]:
        """Every e-mail ministack's SES has accepted, in the order sent."""
        sent: dict[str, list[dict[str, Any]]] = get_json(f"{self.aws_url}/_ministack/ses/messages")[
            "messages"
        ]
        messages = [message for messages in sent.values() for message in messages]
        return sorted(messages, key=lambda message: float(message["Timestamp"]))

    def drain(self, timeout_seconds: float = 240) -> float:
        """Wait until the SES inbox holds every e-mail owed so far; the seconds it took."""
        owed = self.emails_owed
        started = time.perf_counter()

        def caught_up() -> bool | None:
            try:
                return True if len(self.emails()) >= owed else None
            except RuntimeError:  # the inbox did not answer in time: ask again
                return None

        wait_until(caught_up, timeout_seconds, pause_seconds=0.5)
        return time.perf_counter() - started


class _Owed:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0

    def add(self, count: int) -> None:
        with self._lock:
            self._total += count

    @property
    def total(self) -> int:
        with self._lock:
            return self._total
