"""The wallet as a client sees it, over HTTP: customers, deposits, transfers, the e-mails sent.

Every request is a real HTTP request to the deployed API (through the local pass-through
gateway unless told otherwise), with a bearer token: each customer is a person signed in to
the stack's Cognito pool (``devstack.identities``) once, while the population is set up, and
calls with its ID token; deposits come from the payment rail, with its access token and a
reference of its own as Idempotency-Key. E-mails are read from ministack's SES capture
endpoint (the app's only: Cognito's own sign-up codes are left out).
"""

import json
import threading
import time
import uuid
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from benchmarks.common import run_concurrently, wait_until
from devstack.identities import Cognito, claims_of
from devstack.ses_inbox import app_messages
from devstack.wallet_client import (
    Customer,
    Http,
    NoAnswer,
    Reply,
    deposit_request,
    new_person,
    register,
    wait_until_active,
)

# Setup (sign-ins, registrations, deposits) runs with as many clients as the timed runs.
SETUP_CLIENTS = 8
# Each payer's deposit: more than any benchmark sends, so no transfer is refused for funds.
FUNDING = "1000000.00"


def gateway_claims(token: str) -> dict[str, str]:
    """The claims API Gateway's JWT authorizer hands the function for this token (its payload,
    every value a string), for the benchmarks that invoke the function without the gateway."""
    return {
        name: value if isinstance(value, str) else json.dumps(value)
        for name, value in claims_of(token).items()
    }


class WalletApi:
    """The API at ``url``; ``aws_url`` is ministack (for its SES inbox); ``cognito`` the stack's
    user pool, where customers sign in and the payment rail gets its token.

    Counts the e-mails the pipeline owes (one per deposit, two per transfer: the payee's
    confirmation and the payer's receipt), so ``drain`` can wait until it has caught up.
    """

    def __init__(self, url: str, aws_url: str, cognito: Cognito, owed: "_Owed | None" = None) -> None:
        self.url = url
        self.aws_url = aws_url
        self.cognito = cognito
        # A server may close an idle kept-alive connection between runs: that is not a failure.
        # 90 s: above any function's Timeout, so a slow answer under load is measured, not cut.
        self._http = Http(url, timeout_seconds=90, reconnect_when_stale=True)
        self._owed = owed or _Owed()

    def with_url(self, url: str) -> "WalletApi":
        """The same stack reached at another address (e.g. execute-api without the gateway)."""
        other = WalletApi(url, self.aws_url, self.cognito, self._owed)
        if "rail_token" in self.__dict__:
            other.__dict__["rail_token"] = self.rail_token
        return other

    @cached_property
    def rail_token(self) -> str:
        """The payment rail's access token (client credentials), fetched once."""
        return self.cognito.rail_token()

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> Reply:
        """Status 0 when no answer came (timeout, connection lost): counted, not raised."""
        started = time.perf_counter()
        try:
            return self._http.call(method, path, body, headers, token)
        except NoAnswer as error:
            return Reply(0, str(error), seconds=time.perf_counter() - started, at=time.time())

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ customers

    def register(self, customer_type: str = "individual") -> Customer:
        """A person signs in (a verified user the administrator created: no e-mail is sent),
        then registers as a customer with its token."""
        email, token = new_person(self.cognito, "bench")
        return register(self._http, email, token, customer_type, "Cliente Benchmark")

    def register_many(self, count: int, customer_type: str = "individual") -> list[Customer]:
        """``count`` customers, registered concurrently, returned once the sync has opened every
        account (each is ``pending`` until then); within seconds here, so two minutes is a
        stuck pipeline."""
        run = run_concurrently(range(count), SETUP_CLIENTS, lambda _: self.register(customer_type))
        wait_until_active(self._http, run.results, 120, pause_seconds=0.5, clients=SETUP_CLIENTS)
        return run.results

    def deposit(self, customer_id: str, amount: str = FUNDING) -> None:
        """Money from outside, reported by the payment rail with a reference of its own."""
        path, body, headers = deposit_request(customer_id, amount)
        reply = self.call("POST", path, body, headers, token=self.rail_token)
        if reply.status != 201:
            raise RuntimeError(f"deposit answered {reply.status}: {reply.body}")
        self.owe_emails(1)

    def fund(self, customers: Sequence[Customer], amount: str = FUNDING) -> None:
        self.rail_token  # noqa: B018 - fetched once, before the concurrent deposits
        run_concurrently(customers, SETUP_CLIENTS, lambda customer: self.deposit(customer.id, amount))

    # ------------------------------------------------------------------ money

    def transfer(self, payer: Customer, payee: str, value: str = "1.00") -> Reply:
        """POST /transfers as a careful client sends it: with the payer's token and an
        Idempotency-Key."""
        reply = self.call(
            "POST",
            "/transfers",
            {"payer": payer.id, "payee": payee, "value": value},
            {"Idempotency-Key": str(uuid.uuid4())},
            token=payer.token,
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
        """Every e-mail of the app ministack's SES has accepted, in the order sent."""
        return app_messages(self.aws_url)

    def drain(self, timeout_seconds: float = 240, pause_seconds: float = 0.5) -> int:
        """Wait until the SES inbox holds every e-mail owed so far, reading it every
        ``pause_seconds``; how many times it was read (each read lists the whole inbox)."""
        owed = self.emails_owed
        reads = 0

        def caught_up() -> bool | None:
            nonlocal reads
            reads += 1
            try:
                return True if len(self.emails()) >= owed else None
            except OSError:  # the inbox did not answer in time: ask again
                return None

        wait_until(caught_up, timeout_seconds, pause_seconds)
        return reads


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
