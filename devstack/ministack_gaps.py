"""The ONE place where the project closes gaps of ministack 1.5.33, the local AWS.

``python -m devstack.ministack_gaps`` runs ministack with the fixes below applied; the
functions, the template and the tests are the same as on AWS. Each gap is written down,
with a minimal reproduction that could be reported upstream, in docs/local-stack.md.

- G1/G2: a DynamoDB stream mapping ignores the function's ``batchItemFailures`` (the
  failed records are dropped) and its ``MaximumRetryAttempts`` (a failing batch is retried
  forever, blocking the shard). Fixed as AWS documents it: a reported failure is retried
  from the first failed record onwards, at most MaximumRetryAttempts times, and then the
  batch goes to the on-failure destination (``RetryAttemptsExhausted``) and the shard moves on.
- G7: with PERSIST_STATE=1, stream read positions are restored after a restart but the
  stream records are not, so the first N new records of each table are silently skipped.
  Fixed by not restoring DynamoDB stream positions: mappings start again at the (empty)
  restored stream's trim horizon, and the sweeper re-drives whatever was in flight.
- G11: a worker that fails to start makes ministack kill EVERY
  worker of the function, those serving other invocations included, which under
  concurrency feeds itself. Fixed as on AWS, where one failed execution environment is
  discarded alone: only the worker that failed is dropped from the pool and killed.

Closed in the template instead, in a form valid on AWS too: HTTP API routes are
AWS::ApiGatewayV2 resources, since ministack builds none from an OpenAPI body.
"""

import json
import logging
import threading
import time
from typing import Any

from ministack.app import main as ministack_main
from ministack.core import lambda_runtime
from ministack.services import lambda_svc

# AWS's default when a mapping sets none is "retry until the record expires"; locally a
# bounded number keeps a poison record from blocking the shard for a day.
DEFAULT_RETRY_ATTEMPTS = 5
RETRY_PAUSE_SECONDS = 0.5

# ministack logs a failed stream batch only when the function errors, and the fix below
# reports every batch as handled: without these lines a batch failing into the on-failure
# destination would leave no trace in ministack's log.
logger = logging.getLogger("ministack_gaps")


def first_failed_index(result: dict[str, Any], records: list[dict[str, Any]]) -> int | None:
    """Where to resume a stream batch: None if it all succeeded, 0 if the function failed."""
    if result.get("error"):
        return 0
    body = result.get("body")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    failures = body.get("batchItemFailures") if isinstance(body, dict) else None
    if not failures:
        return None
    failed = {str(failure.get("itemIdentifier")) for failure in failures}
    sequence_numbers = [str(record.get("dynamodb", {}).get("SequenceNumber")) for record in records]
    # An identifier the batch does not hold fails the whole batch, as on AWS.
    return min((i for i, number in enumerate(sequence_numbers) if number in failed), default=0)


def _name_of(function: dict[str, Any]) -> str:
    name: str = (function.get("config") or function).get("FunctionName", "")
    return name


def _mapping_for(function: dict[str, Any], source_arn: str) -> dict[str, Any] | None:
    name = _name_of(function)
    for _account, _region, mapping in lambda_svc._iter_all_esms():
        if mapping.get("EventSourceArn") == source_arn and str(mapping.get("FunctionName", "")).endswith(
            name
        ):
            return dict(mapping)
    return None


def _retry_attempts(mapping: dict[str, Any]) -> int:
    configured = int(mapping.get("MaximumRetryAttempts", -1))
    return configured if configured >= 0 else DEFAULT_RETRY_ATTEMPTS


def apply() -> None:
    execute = lambda_svc._execute_function
    restore_positions = lambda_svc._restore_esm_positions

    def execute_stream_batch_as_aws_does(function: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
        records = event.get("Records") or []
        mapping = _mapping_for(function, records[0].get("eventSourceARN", "")) if records else None
        if not records or records[0].get("eventSource") != "aws:dynamodb" or mapping is None:
            passed_through: dict[str, Any] = execute(function, event)
            return passed_through
        reports_items = "ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", [])
        batch = records
        for attempt in range(_retry_attempts(mapping) + 1):
            if attempt:
                time.sleep(RETRY_PAUSE_SECONDS)
            result: dict[str, Any] = execute(function, {"Records": batch})
            resume_at = first_failed_index(result, batch) if reports_items or result.get("error") else None
            if resume_at is None:
                return {**result, "error": False}
            logger.warning(
                "stream batch for %s failed at record %d of %d (attempt %d of %d)",
                _name_of(function),
                resume_at + 1,
                len(batch),
                attempt + 1,
                _retry_attempts(mapping) + 1,
            )
            batch = batch[resume_at:]
        logger.warning(
            "stream batch for %s: retries exhausted, %d records sent to the on-failure destination",
            _name_of(function),
            len(batch),
        )
        lambda_svc._send_ddb_stream_failure_record(
            mapping, function, batch, mapping["EventSourceArn"], result, "RetryAttemptsExhausted"
        )
        # Reported as handled, so that the poller moves the shard past the batch.
        return {**result, "error": False}

    def restore_all_but_dynamodb_streams(store: Any, positions: Any) -> None:
        if store is not lambda_svc._dynamodb_stream_positions:
            restore_positions(store, positions)

    lambda_svc._execute_function = execute_stream_batch_as_aws_does
    lambda_svc._restore_esm_positions = restore_all_but_dynamodb_streams
    _discard_only_the_worker_that_failed()


# The warm invocation running on this thread, and the worker that failed in it, if one did.
_warm_call = threading.local()


def _discard_only_the_worker_that_failed() -> None:
    """G11: ``_execute_function_warm`` answers any exception of ``Worker.invoke`` with
    ``invalidate_worker(function)``; within that call, invalidate the failed worker alone."""
    run_warm = lambda_svc._execute_function_warm
    invoke = lambda_runtime.Worker.invoke
    invalidate = lambda_svc.invalidate_worker

    def run_warm_remembering_its_worker(func: dict[str, Any], event: Any, request_id: str) -> Any:
        _warm_call.active, _warm_call.failed = True, None
        try:
            return run_warm(func, event, request_id)
        finally:
            _warm_call.active, _warm_call.failed = False, None

    def invoke_remembering_failure(worker: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return invoke(worker, *args, **kwargs)
        except Exception:
            if getattr(_warm_call, "active", False):
                _warm_call.failed = worker
            raise

    def invalidate_the_failed_worker_only(
        func_name: str, qualifier: str | None = None, account: str | None = None, region: str | None = None
    ) -> None:
        failed = getattr(_warm_call, "failed", None)
        if failed is None:  # a code or configuration change: every worker goes, as before
            invalidate(func_name, qualifier=qualifier, account=account, region=region)
            return
        _warm_call.failed = None
        with lambda_runtime._lock:
            for pool in lambda_runtime._workers.values():
                if failed in pool:
                    pool.remove(failed)
        lambda_runtime.kill_workers([failed])

    lambda_svc._execute_function_warm = run_warm_remembering_its_worker
    lambda_runtime.Worker.invoke = invoke_remembering_failure
    lambda_svc.invalidate_worker = invalidate_the_failed_worker_only


def main() -> None:
    apply()
    ministack_main()


if __name__ == "__main__":
    main()
