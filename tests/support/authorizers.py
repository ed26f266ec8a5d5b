"""In-process stand-ins for the external authorizer, for tests that call the service layer.

The real client (``wallet.adapters.authorizer.HttpAuthorizer``) has tests of its own against
a stub over HTTP (tests/unit/test_authorizer.py); these answer at once, and count.
"""

from wallet.domain.errors import AuthorizerUnavailable, TransferNotAuthorized


class AllowingAuthorizer:
    """Approves every transfer; ``calls`` counts how often it was asked."""

    def __init__(self) -> None:
        self.calls = 0

    def authorize(self) -> None:
        self.calls += 1


class DenyingAuthorizer:
    def authorize(self) -> None:
        raise TransferNotAuthorized("the authorizer denied the transfer")


class UnavailableAuthorizer:
    def authorize(self) -> None:
        # 5 s: a plausible Retry-After for a client; the tests only check that one is passed on.
        raise AuthorizerUnavailable("the authorizer did not answer", retry_after_seconds=5)
