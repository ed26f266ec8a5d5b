"""POST /customers/{customer_id}/deposits."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Header

from wallet import bootstrap
from wallet.api.http import route_responses
from wallet.api.money import created
from wallet.api.schemas import DepositRequest, IdempotencyKey, PathId, TransactionResponse
from wallet.domain import errors
from wallet.service.money_movement import MoneyMovement

router = Router()


@router.post(
    "/customers/<customer_id>/deposits",
    summary="Deposit money into a customer's account",
    responses=route_responses(
        HTTPStatus.CREATED,
        "deposited (or the original result of a replay)",
        errors.CustomerNotFound,
        errors.CustomerNotActive,
        errors.IdempotencyKeyReused,
        errors.StoreBusy,
    ),
)
def deposit(
    customer_id: PathId,
    body: DepositRequest,
    money: Annotated[MoneyMovement, Depends(bootstrap.money_movement)],
    idempotency_key: Annotated[IdempotencyKey, Header(alias="idempotency-key")] = None,
) -> Response[TransactionResponse]:
    return created(money.deposit(customer_id, body.amount, idempotency_key))
