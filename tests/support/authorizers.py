"""The external authorizer's answers, for tests that call the service layer: one fake
(``tests.support.fakes.FakeAuthorizer``, which allows and counts), told how to refuse.

The real client (``wallet.adapters.authorizer.HttpAuthorizer``) has tests of its own against
a stub over HTTP (tests/unit/test_authorizer.py).
"""

from tests.support.fakes import FakeAuthorizer
from wallet.domain.errors import AuthorizerUnavailable, TransferNotAuthorized


def denying_authorizer() -> FakeAuthorizer:
    return FakeAuthorizer(refusal=TransferNotAuthorized("the authorizer denied the transfer"))


def unavailable_authorizer() -> FakeAuthorizer:
    # 5 s: a plausible Retry-After for a client; the tests only check that one is passed on.
    return FakeAuthorizer(
        refusal=AuthorizerUnavailable("the authorizer did not answer", retry_after_seconds=5)
    )
