"""The batch requests' partial answers and limits: SNS refusing part of a PublishBatch, DynamoDB leaving
keys of a BatchGetItem or items of a BatchWriteItem unprocessed. No engine here produces them, so stub clients do."""

from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError

from tests.support.fakes import NOW
from wallet.adapters.customers_store import CustomerItem
from wallet.adapters.dynamodb import read_together
from wallet.adapters.email_bus import EmailBusRefused, SnsEmailBus
from wallet.adapters.statement_store import StatementEntryItem, StatementStore
from wallet.domain.errors import StoreBusy
from wallet.domain.ledger import TransactionKind
from wallet.domain.statements import statement_entries


class RecordingSns:
    def __init__(self, failed: list[dict[str, Any]] | None = None) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self._failed = failed or []

    def publish_batch(self, **request: Any) -> dict[str, Any]:
        self.batches.append(request["PublishBatchRequestEntries"])
        return {"Successful": [], "Failed": self._failed}


def _messages(count: int) -> list[tuple[str, dict[str, str]]]:
    return [(f"body {n}", {"role": "payee"}) for n in range(count)]


def test_messages_go_in_batches_of_ten_with_their_attributes() -> None:
    sns = RecordingSns()

    SnsEmailBus("arn:topic", sns).publish(_messages(12))  # type: ignore[arg-type]

    assert [len(batch) for batch in sns.batches] == [10, 2]
    first = sns.batches[0][0]
    assert (first["Message"], first["MessageAttributes"]["role"]["StringValue"]) == ("body 0", "payee")
    assert len({entry["Id"] for entry in sns.batches[0]}) == 10


def test_a_message_sns_refuses_fails_the_whole_publish() -> None:
    """The caller publishes everything again: the e-mail side drops what it already sent."""
    sns = RecordingSns(failed=[{"Id": "m1", "Code": "InternalError", "SenderFault": False}])

    with pytest.raises(EmailBusRefused):
        SnsEmailBus("arn:topic", sns).publish(_messages(2))  # type: ignore[arg-type]


class UnprocessingDynamoDB:
    """Answers each BatchGetItem with the first key found and the rest left unprocessed,
    without the request's ConsistentRead, as DynamoDB may hand keys back."""

    def __init__(self, give_up_after: int = 10) -> None:
        self.requests: list[dict[str, Any]] = []
        self._give_up_after = give_up_after

    def dispatch(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        assert operation == "BatchGetItem"
        self.requests.append(kwargs)
        [(table, request)] = kwargs["RequestItems"].items()
        first, *rest = request["Keys"]
        if len(self.requests) > self._give_up_after:
            return {"Responses": {}, "UnprocessedKeys": {table: {"Keys": request["Keys"]}}}
        unprocessed = {table: {"Keys": rest}} if rest else {}
        return {"Responses": {table: [{**first, "found": {"BOOL": True}}]}, "UnprocessedKeys": unprocessed}


def _keys(count: int) -> list[CustomerItem]:
    return [CustomerItem.key(f"c{n}") for n in range(count)]


def test_unprocessed_keys_are_asked_again_still_strongly_consistent() -> None:
    dynamodb = UnprocessingDynamoDB()

    found = read_together(dynamodb, "customers", _keys(3))  # type: ignore[arg-type]

    assert sorted(item["pk"]["S"] for item in found) == ["CUSTOMER#c0", "CUSTOMER#c1", "CUSTOMER#c2"]
    assert len(dynamodb.requests) == 3
    assert all(r["RequestItems"]["customers"]["ConsistentRead"] for r in dynamodb.requests)


def test_keys_still_unprocessed_after_every_attempt_are_store_busy() -> None:
    with pytest.raises(StoreBusy):
        read_together(UnprocessingDynamoDB(give_up_after=0), "customers", _keys(2))  # type: ignore[arg-type]


class ThrottledDynamoDB:
    """Refuses every request as DynamoDB does once botocore's own retries are spent."""

    def dispatch(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
        raise ClientError(error, operation)  # type: ignore[arg-type]


def test_a_throttled_read_is_store_busy() -> None:
    with pytest.raises(StoreBusy):
        read_together(ThrottledDynamoDB(), "customers", _keys(2))  # type: ignore[arg-type]


def test_a_key_no_item_can_have_is_never_asked() -> None:
    """Over DynamoDB's limits (2,048 bytes of partition key) or not UTF-8 at all (a lone
    surrogate): DynamoDB would refuse the whole request for it."""
    dynamodb = UnprocessingDynamoDB()
    unaskable = [CustomerItem.key("x" * 2_048), CustomerItem.key("\ud800")]

    found = read_together(dynamodb, "customers", [*unaskable, *_keys(1)])  # type: ignore[arg-type]

    assert [item["pk"]["S"] for item in found] == ["CUSTOMER#c0"]
    assert [r["RequestItems"]["customers"]["Keys"] for r in dynamodb.requests] == [
        [{"pk": {"S": "CUSTOMER#c0"}, "sk": {"S": "PROFILE"}}]
    ]


class AnsweringDynamoDB:
    """Finds every key asked, at once."""

    def __init__(self) -> None:
        self.asked: list[list[dict[str, Any]]] = []

    def dispatch(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        [(table, request)] = kwargs["RequestItems"].items()
        self.asked.append(request["Keys"])
        return {"Responses": {table: request["Keys"]}, "UnprocessedKeys": {}}


def test_a_key_asked_twice_is_asked_once_and_more_than_100_in_several_requests() -> None:
    dynamodb = AnsweringDynamoDB()

    found = read_together(dynamodb, "customers", [*_keys(150), *_keys(150)])  # type: ignore[arg-type]

    assert [len(keys) for keys in dynamodb.asked] == [100, 50]
    assert len({item["pk"]["S"] for item in found}) == len(found) == 150


class UnprocessingTable:
    """Leaves every item of each BatchWriteItem unprocessed, as DynamoDB does for a throttled
    partition, or fails the request with ``error`` (botocore's retries already spent)."""

    def __init__(self, error: str | None = None) -> None:
        self.requests = 0
        self._error = error

    def batch_write_item(self, put_items: list[Any], delete_items: list[Any], **_: Any) -> dict[str, Any]:
        self.requests += 1
        if self._error is not None:
            cause = ClientError({"Error": {"Code": self._error, "Message": "no"}}, "BatchWriteItem")
            raise PutError("Failed to batch write items", cause=cause)
        return {"UnprocessedItems": {"statements": [{"PutRequest": {"Item": item}} for item in put_items]}}


def _statement_store_over(table: UnprocessingTable, monkeypatch: pytest.MonkeyPatch) -> StatementStore:
    store = StatementStore("statements")
    monkeypatch.setattr(StatementEntryItem, "_get_connection", classmethod(lambda cls: table))
    return store


_ENTRIES = statement_entries(
    transaction_id="t-1",
    kind=TransactionKind.TRANSFER,
    payer_id="ana",
    payee_id="bia",
    amount=1,
    occurred_at=NOW,
)


@pytest.mark.parametrize("error", [None, "ProvisionedThroughputExceededException", "ThrottlingException"])
def test_a_throttled_statement_write_is_store_busy(
    error: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So the sync leaves the batch's events pending together rather than retry each alone."""
    table = UnprocessingTable(error)

    with pytest.raises(StoreBusy):
        _statement_store_over(table, monkeypatch).record(_ENTRIES, NOW)

    # A failed request is botocore's to retry; unprocessed items PynamoDB re-sends, then gives up.
    assert table.requests == 1 if error else table.requests > 1


def test_a_statement_write_refused_for_another_reason_is_not_store_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(PutError) as refused:
        _statement_store_over(UnprocessingTable("ValidationException"), monkeypatch).record(_ENTRIES, NOW)

    assert not isinstance(refused.value, StoreBusy)
