"""POST /customers/{id}/deposits: put money into a customer's account."""

from wallet.api import deposits
from wallet.api.http import lambda_handler_for

lambda_handler = lambda_handler_for(deposits.router)
