"""POST /transfers: move money between two customers."""

from wallet.api import transfers
from wallet.api.http import build_resolver, lambda_handler_for

app = build_resolver(transfers.router)
lambda_handler = lambda_handler_for(app)
