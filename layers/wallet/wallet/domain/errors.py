"""Domain errors. Each carries the contract's machine code; HTTP statuses live in the API layer."""


class WalletError(Exception):
    """A business rule said no. ``code`` is the contract's machine-readable error code."""

    code = "wallet_error"

    def __init__(self, message: str, *, retry_after_seconds: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_seconds = retry_after_seconds


class Unauthenticated(WalletError):
    """The request carries no verified identity (the gateway's authorizer was bypassed)."""

    code = "unauthorized"


class Forbidden(WalletError):
    """The caller is who it says, but this is not theirs to do."""

    code = "forbidden"


class CustomerNotFound(WalletError):
    code = "customer_not_found"


class CustomerAlreadyExists(WalletError):
    code = "customer_already_exists"


class CustomerNotActive(WalletError):
    """The customer exists but the sync has not opened the ledger account yet."""

    code = "customer_not_active"


class MerchantCannotSend(WalletError):
    code = "merchant_cannot_send"


class SameAccount(WalletError):
    code = "same_account"


class InsufficientFunds(WalletError):
    code = "insufficient_funds"


class TransferNotAuthorized(WalletError):
    code = "transfer_not_authorized"


class AuthorizerUnavailable(WalletError):
    code = "authorizer_unavailable"


class TransactionNotFound(WalletError):
    code = "transaction_not_found"


class IdempotencyKeyReused(WalletError):
    code = "idempotency_key_reused"


class StoreBusy(WalletError):
    """DynamoDB kept cancelling a write (TransactionConflict, throttling); safe to retry."""

    code = "store_busy"
