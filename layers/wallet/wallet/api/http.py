"""The HTTP edge shared by every API function: JSON parsing, the error contract, the handler.

Errors always answer ``{"error": <code>, "message": <text>}`` (plus ``details`` for
validation), never a stack trace; bad input is a 4xx, never a 500.
"""

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Router
from aws_lambda_powertools.event_handler.depends import DependencyResolutionError
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from wallet.api.identity import check_caller
from wallet.api.schemas import AccessRefusal, ErrorDetail, ErrorResponse
from wallet.domain import errors
from wallet.domain.customers import InvalidEmail
from wallet.observability import logger, metrics, tracer

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

STATUS_OF: Mapping[type[errors.WalletError], HTTPStatus] = {
    errors.Unauthenticated: HTTPStatus.UNAUTHORIZED,
    errors.Forbidden: HTTPStatus.FORBIDDEN,
    errors.CustomerNotFound: HTTPStatus.NOT_FOUND,
    errors.TransactionNotFound: HTTPStatus.NOT_FOUND,
    errors.CustomerAlreadyExists: HTTPStatus.CONFLICT,
    errors.CustomerNotActive: HTTPStatus.CONFLICT,
    errors.IdempotencyKeyReused: HTTPStatus.CONFLICT,
    errors.MerchantCannotSend: HTTPStatus.FORBIDDEN,
    errors.TransferNotAuthorized: HTTPStatus.FORBIDDEN,
    errors.InsufficientFunds: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.SameAccount: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.AuthorizerUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    errors.StoreBusy: HTTPStatus.SERVICE_UNAVAILABLE,
}


def parse_json(body: str) -> dict[str, Any]:
    """The request body: one JSON object whose numbers are Decimal, never float.

    ``0.1`` must stay exactly 0.1. Anything else a client may send (an array, a number in
    exponent form, an integer beyond Python's digit limit, nesting deeper than the
    recursion limit) is a JSONDecodeError, which Powertools answers as a 422.
    """
    try:
        document = json.loads(body, parse_float=_plain_decimal, parse_constant=Decimal)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as error:
        raise json.JSONDecodeError(f"unreadable JSON: {type(error).__name__}", body, 0) from error
    if not isinstance(document, dict):
        raise json.JSONDecodeError("the body must be a JSON object", body, 0)
    return document


def _plain_decimal(number: str) -> Decimal:
    if "e" in number or "E" in number:
        raise ValueError("numbers in exponent form are not accepted")
    return Decimal(number)


def json_response(status: HTTPStatus, body: Any, headers: Mapping[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=dict(headers or {}),
    )


# Statuses API Gateway's JWT authorizer answers itself, with a body of its own.
_GATEWAY_STATUSES = {HTTPStatus.UNAUTHORIZED.value, HTTPStatus.FORBIDDEN.value}


def route_responses(
    success: HTTPStatus,
    description: str,
    *error_types: type[errors.WalletError],
    links: dict[str, Any] | None = None,
    beyond_the_schema: str | None = None,
) -> dict[int, OpenAPIResponse]:
    """A route's OpenAPI ``responses``: its success (Powertools adds the schema of the return
    annotation), its possible errors and the validation error. Given ``responses``, Powertools
    documents nothing else, the success included.

    ``links`` lead from the success to other operations (``wallet.api.links``);
    ``beyond_the_schema`` says what else is a 422 validation_error though it fits the schema.
    """
    succeeded: OpenAPIResponse = {"description": description}
    if success is HTTPStatus.CREATED:
        succeeded["headers"] = {"Location": _LOCATION}
    if links:
        succeeded["links"] = links
    validation = "validation_error"
    if beyond_the_schema:
        validation += f" (also, though it fits the schema: {beyond_the_schema})"
    documented: dict[int, OpenAPIResponse] = {
        success.value: succeeded,
        HTTPStatus.UNPROCESSABLE_ENTITY.value: _error_doc(validation),
    }
    refusals: tuple[type[errors.WalletError], ...] = (errors.Unauthenticated, errors.Forbidden)
    for error_type in (*refusals, *error_types):
        status = STATUS_OF[error_type].value
        codes = documented[status]["description"] if status in documented else ""
        document = _refusal_doc if status in _GATEWAY_STATUSES else _error_doc
        documented[status] = document(f"{codes}, {error_type.code}" if codes else error_type.code)
    return documented


_LOCATION: OpenAPIResponseHeader = {
    "description": "Where the created resource is read",
    "schema": {"type": "string"},
}


def _error_doc(codes: str) -> OpenAPIResponse:
    return {"description": codes, "content": {"application/json": {"model": ErrorResponse}}}


def _refusal_doc(codes: str) -> OpenAPIResponse:
    """401 and 403 come from API Gateway too (``{"message": ...}``), before any function runs."""
    return {"description": codes, "content": {"application/json": {"model": AccessRefusal}}}


def _error(
    status: HTTPStatus, code: str, message: str, details: list[ErrorDetail] | None = None
) -> Response[Any]:
    body = ErrorResponse(error=code, message=message, details=details)
    return json_response(status, body.model_dump(mode="json", exclude_none=True))


def _wallet_error(error: errors.WalletError) -> Response[Any]:
    status = next(STATUS_OF[cls] for cls in type(error).__mro__ if cls in STATUS_OF)
    response = _error(status, error.code, error.message)
    if error.retry_after_seconds is not None:
        response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response


def _dependency_error(error: DependencyResolutionError) -> Response[Any]:
    """Powertools wraps what a dependency raises: the caller's identity is one, and says no."""
    if isinstance(error.__cause__, errors.WalletError):
        return _wallet_error(error.__cause__)
    return _unexpected(error)


def _validation_error(error: RequestValidationError) -> Response[Any]:
    details = [
        ErrorDetail(location=list(item.get("loc", ())), message=item.get("msg", item.get("type", "invalid")))
        for item in error.errors()
    ]
    return _error(
        HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", "the request is not valid", details=details
    )


def _unsupported_media_type(_: RequestUnsupportedContentType) -> Response[Any]:
    return _error(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send the body as application/json"
    )


def _unusable_email(error: InvalidEmail) -> Response[Any]:
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", f"the token's e-mail: {error}")


def _undecodable_body(_: UnicodeDecodeError) -> Response[Any]:
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", "the body is not UTF-8 text")


def _not_found_or_not_allowed(app: APIGatewayHttpResolver) -> Callable[[NotFoundError], Response[Any]]:
    """No route of this function took the request: 405 if the API takes its path with other
    methods (``Allow`` lists them), else 404.

    Every method API Gateway has no route for reaches the queries function through the
    ``$default`` route, so the answer is decided from the routes of the WHOLE API.
    """

    def answer(_: NotFoundError) -> Response[Any]:
        # Imported on the first request no route takes: it loads every function's routes.
        from wallet.api.docs import allowed_methods  # noqa: PLC0415

        path = app.context.get("_path") or app.current_event.path
        allowed = allowed_methods(path)
        if not allowed:
            return _error(HTTPStatus.NOT_FOUND, "route_not_found", "no such route")
        allow = ", ".join(allowed)
        response = _error(
            HTTPStatus.METHOD_NOT_ALLOWED,
            "method_not_allowed",
            f"this route takes only {allow}",
        )
        response.headers["Allow"] = allow
        return response

    return answer


def _unexpected(error: Exception) -> Response[Any]:
    logger.exception("unexpected error")
    return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side")


def _caller_first[E: Exception](
    app: APIGatewayHttpResolver, answer: Callable[[E], Response[Any]]
) -> Callable[[E], Response[Any]]:
    """``answer`` for a request whose caller the route accepts; the refusal for anyone else.

    Request validation runs before the route's identity dependency: without this, a refused
    caller would be told what is wrong with its request (422, 415) instead of 401/403.
    """

    def answer_the_caller(error: E) -> Response[Any]:
        route = app.context.get("_route")
        if route is not None:
            try:
                check_caller(route.security, app.request)
            except errors.WalletError as refusal:
                return _wallet_error(refusal)
        return answer(error)

    return answer_the_caller


class _JsonBodiesOnly(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading JSON bodies only.

    Powertools reads form data and multipart bodies too (and answers a multipart type
    without a boundary with a 500); the spec declares ``application/json`` alone, and any
    other content type is 415. Media types are compared case-insensitively, parameters
    (``; charset=utf-8``) aside; a body without a content type is read as JSON.
    """

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

    def _get_body(self, app: ApiGatewayResolver) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type not in {"", content_types.APPLICATION_JSON}:
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[{"type": "unsupported_content_type", "loc": ("body",), "msg": media_type}],
            )
        body: dict[str, Any] = self._parse_json_data(app)
        return body


def build_resolver(*routers: Router) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=parse_json)
    app._request_validation_middleware = _JsonBodiesOnly()  # where Powertools keeps its own
    app.exception_handler(errors.WalletError)(_wallet_error)
    app.exception_handler(DependencyResolutionError)(_dependency_error)
    app.exception_handler(RequestValidationError)(_caller_first(app, _validation_error))
    app.exception_handler(RequestUnsupportedContentType)(_caller_first(app, _unsupported_media_type))
    app.exception_handler(UnicodeDecodeError)(_caller_first(app, _undecodable_body))
    app.exception_handler(InvalidEmail)(_unusable_email)
    app.exception_handler(Exception)(_unexpected)
    app.not_found(_not_found_or_not_allowed(app))
    for router in routers:
        app.include_router(router)
    return app


def lambda_handler_for(app: APIGatewayHttpResolver) -> LambdaHandler:
    """The Lambda entry point of an API function serving ``app`` (``build_resolver``'s).

    Each function's ``app.py`` keeps its resolver as ``app``, so that a test can replace a
    use case with ``app.dependency_overrides[bootstrap.<factory>] = lambda: <fake>``.
    """

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler
