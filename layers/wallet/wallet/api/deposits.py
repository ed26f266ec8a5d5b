"""POST /customers/{customer_id}/deposits: money received from outside, reported by the payment rail."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Header

from wallet import bootstrap
from wallet.api import links
from wallet.api.http import route_responses
from wallet.api.identity import RAIL_ONLY, PaymentRail
from wallet.api.movement_response import created
from wallet.api.schemas import DepositRequest, PathId, RailReference, TransactionResponse
from wallet.domain import errors
from wallet.service.money_movement import MoneyMovement

router = Router()


@router.post(
    "/customers/<customer_id>/deposits",
    summary="Credit a customer with money received from outside (the payment rail only)",
    operation_id=links.DEPOSIT,
    responses=route_responses(
        HTTPStatus.CREATED,
        "deposited (or the original result of a replay)",
        errors.CustomerNotFound,
        errors.CustomerNotActive,
        errors.IdempotencyKeyReused,
        errors.StoreBusy,
    ),
    security=RAIL_ONLY,
)
def deposit(
    customer_id: PathId,
    body: DepositRequest,
    rail: PaymentRail,
    money: Annotated[MoneyMovement, Depends(bootstrap.money_movement)],
    reference: Annotated[RailReference, Header(alias="idempotency-key")],
) -> Response[TransactionResponse]:
    return created(money.deposit(rail.client_id, customer_id, body.amount, reference))
