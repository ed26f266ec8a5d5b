"""The HTTP API: Powertools routers, request/response schemas and the error contract."""
