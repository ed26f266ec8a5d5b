"""Every GET of the API, including /openapi.json and /docs."""

from wallet.api import docs, queries, statement
from wallet.api.http import lambda_handler_for

lambda_handler = lambda_handler_for(queries.router, statement.router, docs.router)
