"""POST /transfers: move money between two customers."""

from wallet.api import transfers
from wallet.api.http import lambda_handler_for

lambda_handler = lambda_handler_for(transfers.router)
