"""POST /customers: register a customer (pending until the sync opens its account)."""

from wallet.api import registration
from wallet.api.http import build_resolver, lambda_handler_for

app = build_resolver(registration.router)
lambda_handler = lambda_handler_for(app)
