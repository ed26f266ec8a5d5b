"""GET /customers/{id}/transactions: a customer's statement, newest first, paginated.

The statement is the customers context's synced copy of the ledger's transactions (written
by the sync); ``cursor`` is opaque to clients and only valid for the customer it came from.
"""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query

from wallet import bootstrap
from wallet.api import links
from wallet.api.http import route_responses
from wallet.api.identity import CUSTOMER_ONLY, Customer
from wallet.api.schemas import PathId
from wallet.api.statement_schemas import StatementResponse
from wallet.domain import errors
from wallet.service.ports import CURSOR_PATTERN, MAX_CURSOR_LENGTH, InvalidCursor
from wallet.service.statements import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, StatementQueries

router = Router()


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="page size")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_LENGTH,
        pattern=CURSOR_PATTERN,
        description="next_cursor of the previous page (a cursor this API did not give for this "
        "statement is 422 validation_error)",
    ),
]
StatementDependency = Annotated[StatementQueries, Depends(bootstrap.statement_queries)]


@router.get(
    "/customers/<customer_id>/transactions",
    summary="The caller's statement, newest first",
    operation_id=links.GET_STATEMENT,
    responses=route_responses(
        HTTPStatus.OK,
        "one page of the statement",
        errors.CustomerNotFound,
        beyond_the_schema="a cursor this API did not give for this statement",
    ),
    security=CUSTOMER_ONLY,
)
def transactions(
    customer_id: PathId,
    caller: Customer,
    statements: StatementDependency,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> StatementResponse:
    try:
        page = statements.page(caller.customer_id, customer_id, limit, cursor)
    except InvalidCursor as invalid:
        # Same 422 validation_error as any other bad query parameter.
        raise RequestValidationError(
            [{"loc": ("query", "cursor"), "msg": str(invalid), "type": "value_error"}]
        ) from invalid
    return StatementResponse.of(page)
