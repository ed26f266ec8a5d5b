"""POST /customers: register a customer (pending until the sync opens its account)."""

from wallet.api import registration
from wallet.api.http import lambda_handler_for

lambda_handler = lambda_handler_for(registration.router)
