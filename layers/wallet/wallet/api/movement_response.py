"""The answer of the routes that move money (transfers, deposits): 201 with the transaction,
its ``Location``, and ``Idempotent-Replayed: true`` when it is the original of a replay."""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from wallet.api.http import json_response
from wallet.api.schemas import TransactionResponse
from wallet.service.money_movement import Movement


def created(movement: Movement) -> Response[Any]:
    transaction = movement.transaction
    headers = {"Location": f"/transfers/{transaction.id}"}
    if movement.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(
        HTTPStatus.CREATED, TransactionResponse.of(transaction).model_dump(mode="json"), headers
    )
