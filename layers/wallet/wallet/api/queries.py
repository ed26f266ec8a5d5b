"""The GET routes: the caller's customer, balance and transactions."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends

from wallet import bootstrap
from wallet.api import links
from wallet.api.http import route_responses
from wallet.api.identity import CUSTOMER_ONLY, Customer
from wallet.api.schemas import BalanceResponse, CustomerResponse, PathId, TransactionResponse
from wallet.domain import errors
from wallet.domain.money import format_amount
from wallet.service.queries import Queries

router = Router()

QueriesDependency = Annotated[Queries, Depends(bootstrap.queries)]


# Before /customers/<customer_id>, which "me" would match too.
@router.get(
    "/customers/me",
    summary="The caller's own customer",
    operation_id=links.GET_ME,
    responses=route_responses(HTTPStatus.OK, "the caller's customer", errors.CustomerNotFound),
    security=CUSTOMER_ONLY,
)
def me(caller: Customer, queries: QueriesDependency) -> CustomerResponse:
    return CustomerResponse.of(queries.customer(caller.customer_id, caller.customer_id))


@router.get(
    "/customers/<customer_id>",
    summary="The caller's customer, by id",
    operation_id=links.GET_CUSTOMER,
    responses=route_responses(HTTPStatus.OK, "the customer", errors.CustomerNotFound),
    security=CUSTOMER_ONLY,
)
def customer(customer_id: PathId, caller: Customer, queries: QueriesDependency) -> CustomerResponse:
    return CustomerResponse.of(queries.customer(caller.customer_id, customer_id))


@router.get(
    "/customers/<customer_id>/balance",
    summary="The caller's balance, from the ledger",
    operation_id=links.GET_BALANCE,
    responses=route_responses(HTTPStatus.OK, "the balance", errors.CustomerNotFound),
    security=CUSTOMER_ONLY,
)
def balance(customer_id: PathId, caller: Customer, queries: QueriesDependency) -> BalanceResponse:
    result = queries.balance(caller.customer_id, customer_id)
    return BalanceResponse(customer_id=result.customer_id, balance=format_amount(result.balance))


@router.get(
    "/transfers/<transaction_id>",
    summary="A transaction the caller paid or received",
    operation_id=links.GET_TRANSFER,
    responses=route_responses(HTTPStatus.OK, "the transaction", errors.TransactionNotFound),
    security=CUSTOMER_ONLY,
)
def transaction(transaction_id: PathId, caller: Customer, queries: QueriesDependency) -> TransactionResponse:
    return TransactionResponse.of(queries.transaction(caller.customer_id, transaction_id))
