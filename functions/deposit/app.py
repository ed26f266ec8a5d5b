"""POST /customers/{id}/deposits: put money into a customer's account."""

from wallet.api import deposits
from wallet.api.http import build_resolver, lambda_handler_for

app = build_resolver(deposits.router)
lambda_handler = lambda_handler_for(app)
