"""The GET routes: customers, balances, transactions."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends

from wallet import bootstrap
from wallet.api.http import route_responses
from wallet.api.schemas import BalanceResponse, CustomerResponse, PathId, TransactionResponse
from wallet.domain import errors
from wallet.domain.money import format_amount
from wallet.service.queries import Queries

router = Router()

QueriesDependency = Annotated[Queries, Depends(bootstrap.queries)]


@router.get(
    "/customers/<customer_id>",
    summary="A customer",
    responses=route_responses(HTTPStatus.OK, "the customer", errors.CustomerNotFound),
)
def customer(customer_id: PathId, queries: QueriesDependency) -> CustomerResponse:
    return CustomerResponse.of(queries.customer(customer_id))


@router.get(
    "/customers/<customer_id>/balance",
    summary="A customer's balance, from the ledger",
    responses=route_responses(HTTPStatus.OK, "the balance", errors.CustomerNotFound),
)
def balance(customer_id: PathId, queries: QueriesDependency) -> BalanceResponse:
    result = queries.balance(customer_id)
    return BalanceResponse(customer_id=result.customer_id, balance=format_amount(result.balance))


@router.get(
    "/transfers/<transaction_id>",
    summary="A transaction",
    responses=route_responses(HTTPStatus.OK, "the transaction", errors.TransactionNotFound),
)
def transaction(transaction_id: PathId, queries: QueriesDependency) -> TransactionResponse:
    return TransactionResponse.of(queries.transaction(transaction_id))
