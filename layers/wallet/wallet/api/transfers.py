"""POST /transfers: the caller sends its own money."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Header

from wallet import bootstrap
from wallet.api import links
from wallet.api.http import route_responses
from wallet.api.identity import CUSTOMER_ONLY, Customer
from wallet.api.movement_response import created
from wallet.api.schemas import IdempotencyKey, TransactionResponse, TransferRequest
from wallet.domain import errors
from wallet.service.money_movement import MoneyMovement

router = Router()


@router.post(
    "/transfers",
    summary="Send money from the caller to another customer",
    operation_id=links.TRANSFER,
    responses=route_responses(
        HTTPStatus.CREATED,
        "transferred (or the original result of a replay)",
        errors.CustomerNotFound,
        errors.CustomerNotActive,
        errors.IdempotencyKeyReused,
        errors.MerchantCannotSend,
        errors.TransferNotAuthorized,
        errors.InsufficientFunds,
        errors.SameAccount,
        errors.AuthorizerUnavailable,
        errors.StoreBusy,
        links=links.AFTER_TRANSFER,
    ),
    security=CUSTOMER_ONLY,
)
def transfer(
    body: TransferRequest,
    caller: Customer,
    money: Annotated[MoneyMovement, Depends(bootstrap.money_movement)],
    idempotency_key: Annotated[IdempotencyKey, Header(alias="idempotency-key")] = None,
) -> Response[TransactionResponse]:
    movement = money.transfer(
        caller.customer_id, body.payee, body.value, idempotency_key, payer_id=body.payer
    )
    return created(movement)
