"""POST /customers: the caller's identity becomes a customer."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends

from wallet import bootstrap
from wallet.api import links
from wallet.api.http import json_response, route_responses
from wallet.api.identity import CUSTOMER_ONLY, Customer
from wallet.api.schemas import CustomerResponse, RegisterCustomerRequest
from wallet.domain.errors import CustomerAlreadyExists
from wallet.service.ports import CustomerRegistry
from wallet.service.registration import register_customer

router = Router()


@router.post(
    "/customers",
    summary="Register the signed-in person as a customer",
    description="The e-mail is the token's verified one. The customer is `pending` until its "
    "ledger account is open, then `active`.",
    operation_id=links.REGISTER_CUSTOMER,
    responses=route_responses(
        HTTPStatus.CREATED,
        "registered",
        CustomerAlreadyExists,
        links=links.AFTER_REGISTRATION,
        beyond_the_schema="a document whose check digits are wrong",
    ),
    security=CUSTOMER_ONLY,
)
def register(
    body: RegisterCustomerRequest,
    caller: Customer,
    customers: Annotated[CustomerRegistry, Depends(bootstrap.customers_store)],
) -> Response[CustomerResponse]:
    customer = register_customer(customers, caller, name=body.name, document=body.document, type=body.type)
    return json_response(
        HTTPStatus.CREATED,
        CustomerResponse.of(customer).model_dump(mode="json"),
        {"Location": f"/customers/{customer.id}"},
    )
