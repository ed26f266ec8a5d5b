"""Every GET of the API, including /openapi.json and /docs."""

from wallet.api import docs, queries, statement
from wallet.api.http import build_resolver, lambda_handler_for

app = build_resolver(queries.router, statement.router, docs.router)
lambda_handler = lambda_handler_for(app)
