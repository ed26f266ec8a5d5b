"""GET /openapi.json and GET /docs: the spec of the WHOLE API, whichever function serves it;
and the methods each path of the API takes, for a 405."""

import gzip
from functools import cache
from importlib.resources import files
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from wallet.api.http import build_resolver
from wallet.api.identity import CUSTOMER_TOKEN, RAIL_TOKEN

router = Router()


@cache
def every_route() -> APIGatewayHttpResolver:
    """A resolver of every route of the API, whichever function serves it: the spec's, and
    which methods a path takes (a 405's ``Allow``)."""
    # The other functions' routes are imported here, on the first request for the spec (or the
    # first request no route takes): the queries function serving these two pages would
    # otherwise load, at every cold start, the schemas and use cases of every POST (the
    # ledger, the authorizer client) as well.
    from wallet.api import deposits, queries, registration, statement, transfers  # noqa: PLC0415

    return build_resolver(
        registration.router, transfers.router, deposits.router, queries.router, statement.router, router
    )


def allowed_methods(path: str) -> list[str]:
    """The methods the API takes on ``path`` (as routed, after any prefix), in the order declared."""
    resolver = every_route()
    # Powertools keeps its routes in these two lists; resolving a request walks them the same way.
    routes = resolver._static_routes + resolver._dynamic_routes
    return list(dict.fromkeys(route.method for route in routes if route.rule.match(path)))


@cache
def openapi_spec() -> str:
    # Powertools' OpenAPI models (41 pydantic classes, ~200 ms to build) are loaded here, on
    # the first request for the spec: no other route of any function needs them.
    from aws_lambda_powertools.event_handler.openapi.models import (  # noqa: PLC0415
        HTTPBearer,
        SecurityScheme,
    )

    # /docs asks for a token and sends it as a bearer.
    security_schemes: dict[str, SecurityScheme] = {
        CUSTOMER_TOKEN: HTTPBearer(
            bearerFormat="JWT",
            description="A customer's Cognito ID token (`make token EMAIL=...` on the local stack).",
        ),
        RAIL_TOKEN: HTTPBearer(
            bearerFormat="JWT",
            description="The payment rail's access token, scope `wallet/deposits` (`make rail-token` locally).",
        ),
    }
    return every_route().get_openapi_json_schema(
        title="wallet",
        version="1.0.0",
        description="Money transfers between customers, in BRL. Amounts are decimal strings. "
        "Every route needs a bearer token: a customer's Cognito ID token, or for deposits the "
        "payment rail's access token.",
        security_schemes=security_schemes,
    )


@router.get("/openapi.json", include_in_schema=False)
def openapi_json() -> Response[Any]:
    return Response(200, content_types.APPLICATION_JSON, openapi_spec())


@cache
def swagger_page() -> str:
    """Swagger UI with Powertools' bundled assets inlined, so /docs works offline too."""
    # Imported on the first /docs request, as the OpenAPI models are (openapi_spec).
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import (  # noqa: PLC0415
        generate_swagger_html,
    )

    script = _swagger_asset("swagger-ui-bundle.min.js")
    style = _swagger_asset("swagger-ui.min.css")
    return generate_swagger_html(openapi_spec(), script, style, "", None)


def _swagger_asset(name: str) -> str:
    """One of Powertools' Swagger UI files: as Powertools installs it, or as the layer ships it,
    gzipped (1.6 MB that only this page reads, in every function's layer: layers/wallet/Makefile)."""
    assets = files("aws_lambda_powertools.event_handler.openapi.swagger_ui")
    installed = assets.joinpath(name)
    if installed.is_file():
        return installed.read_text()
    return gzip.decompress(assets.joinpath(f"{name}.gz").read_bytes()).decode()


@router.get("/docs", include_in_schema=False)
def docs() -> Response[Any]:
    return Response(200, content_types.TEXT_HTML, swagger_page())
