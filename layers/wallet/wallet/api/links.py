"""The operations' ids and the spec's links: where a 201 leads a client next.

A link names the operation it leads to and fills its parameters from the answer, so a client
(or schemathesis' stateful phase) goes from a registration to the customer, its balance and
its statement, and from a transfer to the transaction, with ids that exist.
"""

from typing import Any

REGISTER_CUSTOMER = "registerCustomer"
GET_ME = "getMe"
GET_CUSTOMER = "getCustomer"
GET_BALANCE = "getBalance"
GET_STATEMENT = "getStatement"
DEPOSIT = "deposit"
TRANSFER = "transfer"
GET_TRANSFER = "getTransfer"

_CREATED_ID = "$response.body#/id"


def _link(operation_id: str, parameter: str, description: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": {parameter: _CREATED_ID}, "description": description}


AFTER_REGISTRATION: dict[str, Any] = {
    "GetCustomer": _link(GET_CUSTOMER, "customer_id", "The customer just registered."),
    "GetBalance": _link(GET_BALANCE, "customer_id", "Its balance."),
    "GetStatement": _link(GET_STATEMENT, "customer_id", "Its statement."),
}
AFTER_TRANSFER: dict[str, Any] = {
    "GetTransfer": _link(GET_TRANSFER, "transaction_id", "The transaction just made."),
}
