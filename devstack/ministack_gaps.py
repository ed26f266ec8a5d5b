"""The ONE place where the project closes gaps of ministack 1.5.33, the local AWS.

``python -m devstack.ministack_gaps`` runs ministack with the fixes below applied; the
functions, the template and the tests are the same as on AWS. Each gap is written down,
with a minimal reproduction that could be reported upstream, in docs/local-stack.md.

Each fix below is named for what it makes ministack do as AWS does; the code after it
(G1 .. G24) is its section in docs/local-stack.md, which also names its reproduction in
tests/integration/test_ministack_gaps.py. ``FIXES``, at the end, lists them in the order
``apply`` installs them.

- ``_stream_batches_retry_then_go_to_the_on_failure_destination`` (G1/G2): a DynamoDB
  stream mapping ignores the function's ``batchItemFailures`` (the failed records are
  dropped) and its ``MaximumRetryAttempts`` (a failing batch is retried forever, blocking
  the shard). Fixed as AWS documents it: a reported failure is retried from the first
  failed record onwards, at most MaximumRetryAttempts times, and then the batch goes to the
  on-failure destination (``RetryAttemptsExhausted``) and the shard moves on.
- ``_restarts_skip_no_new_stream_records`` (G7): with PERSIST_STATE=1, stream read positions
  are restored after a restart but the stream records are not, so the first N new records
  of each table are silently skipped. Fixed by not restoring DynamoDB stream positions:
  mappings start again at the (empty) restored stream's trim horizon, and the sweeper
  re-drives whatever was in flight.
- ``_discard_only_the_worker_that_failed`` (G11): a worker that fails to start makes
  ministack kill EVERY worker of the function, those serving other invocations included,
  which under concurrency feeds itself. Fixed as on AWS, where one failed execution
  environment is discarded alone: only the worker that failed is dropped from the pool and
  killed.
- ``_authorize_sending_on_the_identity`` (G12, AUTH=true): SES v2 SendEmail is authorized on
  resource ``*``, so a policy that allows ``ses:SendEmail`` on the sending identity's ARN,
  as AWS requires, is refused. Fixed: the request is authorized on the identity it sends
  from (the From address, or its domain when only the domain is an identity).
- ``_mappings_act_as_the_execution_role`` (G13, AUTH=true): event source mappings read their
  source and send to their on-failure destination as ministack itself, never as the
  function's execution role, so a role without the permissions AWS requires still consumes
  its stream or queue. Fixed: a mapping whose role may not read its source is not polled
  (its LastProcessingResult says why), and a failed batch the role may not send to its
  destination is dropped with a warning.
- ``_topics_of_stacks_get_the_default_policy_aws_gives`` (G14, AUTH=true): a topic created
  by CloudFormation gets a default policy that lets every principal publish and subscribe
  (``Principal: *``, no condition), so a role without ``sns:Publish`` publishes all the
  same. Fixed: its default statement carries the ``AWS:SourceOwner`` condition, as the one
  CreateTopic writes (and AWS's) does.
- ``_services_invoke_only_as_the_functions_policy_allows`` (G15, AUTH=true): API Gateway and
  EventBridge invoke a function whatever its resource-based policy
  (AWS::Lambda::Permission) says. Fixed: they invoke it only if the policy allows their
  service principal for the API's (or the rule's) source ARN; otherwise the API answers 500
  and logs why, and the rule's invocation is dropped with a warning.
- ``_reservations_leave_the_accounts_minimum_unreserved`` and
  ``_stacks_apply_what_they_declare`` (G16): CloudFormation ignores a function's
  ReservedConcurrentExecutions, and PutFunctionConcurrency accepts a reservation that
  leaves the account fewer than 100 unreserved executions. Fixed: a stack's function
  reserves what it declares, through the Lambda API's call, which refuses what AWS refuses
  (and so fails the stack's deployment).
- ``_stages_keep_route_settings_in_the_apis_casing`` and
  ``_stages_throttle_and_log_every_request`` (G17): an HTTP API stage's throttles
  (DefaultRouteSettings, RouteSettings) are never applied, and a stack's route settings are
  stored in the template's casing, so GetStage reads them back empty. Fixed: a token bucket
  per route (burst, refilled at rate a second) answers 429 ``{"message":"Too Many
  Requests"}`` before any authorizer or function runs; the settings are stored as the API
  returns them (``throttlingBurstLimit``, ...).
- ``_stages_throttle_and_log_every_request`` (G18): a stage's access log is never written.
  Fixed: one line per request, throttled and refused ones included, in the stage's Format
  with its ``$context`` variables ("-" for one without a value), to its destination log
  group.
- ``_stacks_apply_what_they_declare`` (G19): CloudFormation drops a topic's KmsMasterKeyId.
  Fixed: GetTopicAttributes returns it (ministack still encrypts nothing with it and asks
  KMS nothing on a publish).
- ``_stacks_apply_what_they_declare`` (G20): CloudFormation ignores a table's
  PointInTimeRecoverySpecification. Fixed: it is applied as UpdateContinuousBackups
  applies it.
- ``_publish_batch_is_authorized_as_publish`` (G22, AUTH=true): an SNS PublishBatch is
  authorized as the action ``sns:PublishBatch``, which IAM does not define: AWS authorizes
  it as ``sns:Publish``, the only action a publisher's policy can name. Fixed: evaluated as
  ``sns:Publish``.
- ``_stacks_give_mappings_their_scaling_as_a_number`` (G23): a stack's event source mapping
  keeps ``ScalingConfig.MaximumConcurrency`` as the template gave it: from a parameter
  (``!Ref``), text, on which the SQS poller fails at every pass, so the queue is never
  consumed. AWS reads it as the integer it is. Fixed: the values become integers before the
  mapping is created or updated.
- ``_wildcards_match_line_breaks`` (G24, AUTH=true): an IAM wildcard does not match a line
  break, so a request whose path holds one (``/transfers/a%0Ab``) matches no ``.../*`` of the
  function's policy and API Gateway answers 500. Fixed: ``*`` and ``?`` match any character.

Closed in the template instead, in a form valid on AWS too: HTTP API routes are
AWS::ApiGatewayV2 resources, since ministack builds none from an OpenAPI body.
"""

import base64
import contextvars
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import parseaddr
from typing import Any

from ministack import app as ministack_app
from ministack.app import main as ministack_main
from ministack.core import iam_actions, iam_evaluator, lambda_runtime
from ministack.core.arn import ArnParseError, parse_arn
from ministack.services import apigateway as http_apis
from ministack.services import cloudwatch_logs, eventbridge, lambda_svc, ses_v2
from ministack.services import dynamodb as dynamodb_svc
from ministack.services import sns as sns_svc
from ministack.services.cloudformation import provisioners

# AWS's default when a mapping sets none is "retry until the record expires"; locally a
# bounded number keeps a poison record from blocking the shard for a day.
DEFAULT_RETRY_ATTEMPTS = 5
# Between two tries of a failed stream batch: long enough that a batch failing at once does
# not spin a core, short enough that a transient failure (a throttled write) is over quickly.
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


# Every mapping, before ``_mappings_act_as_the_execution_role`` (G13) hides those whose role
# may not read their source.
_every_mapping = lambda_svc._iter_all_esms


def _mapping_for(function: dict[str, Any], source_arn: str) -> dict[str, Any] | None:
    name = _name_of(function)
    for _account, _region, mapping in _every_mapping():
        if mapping.get("EventSourceArn") == source_arn and str(mapping.get("FunctionName", "")).endswith(
            name
        ):
            return dict(mapping)
    return None


def _retry_attempts(mapping: dict[str, Any]) -> int:
    configured = int(mapping.get("MaximumRetryAttempts", -1))
    return configured if configured >= 0 else DEFAULT_RETRY_ATTEMPTS


def apply() -> None:
    """Install every fix into this process's ministack, before it serves anything."""
    for fix in FIXES:
        fix()


def _stream_batches_retry_then_go_to_the_on_failure_destination() -> None:
    """G1/G2: ``_poll_dynamodb_streams`` advances past the whole batch after any successful
    invocation; only the SQS poller reads ``batchItemFailures``."""
    execute = lambda_svc._execute_function

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
            "stream batch for %s: retries exhausted, %d records handed to the on-failure destination",
            _name_of(function),
            len(batch),
        )
        lambda_svc._send_ddb_stream_failure_record(
            mapping, function, batch, mapping["EventSourceArn"], result, "RetryAttemptsExhausted"
        )
        # Reported as handled, so that the poller moves the shard past the batch.
        return {**result, "error": False}

    lambda_svc._execute_function = execute_stream_batch_as_aws_does


def _restarts_skip_no_new_stream_records() -> None:
    """G7: the saved DynamoDB stream positions point past records the restored (empty)
    stream no longer holds; every other poller's positions are restored as before."""
    restore_positions = lambda_svc._restore_esm_positions

    def restore_all_but_dynamodb_streams(store: Any, positions: Any) -> None:
        if store is not lambda_svc._dynamodb_stream_positions:
            restore_positions(store, positions)

    lambda_svc._restore_esm_positions = restore_all_but_dynamodb_streams


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


def sending_identity(body: bytes) -> str | None:
    """The SES identity a v2 SendEmail sends from: its From address if that is an identity,
    else the address's domain (AWS authorizes the send on that identity's ARN)."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return None
    _name, address = (
        parseaddr(str(request.get("FromEmailAddress") or "")) if isinstance(request, dict) else ("", "")
    )
    if "@" not in address:
        return None
    return address if address in ses_v2._identities else address.rsplit("@", 1)[1]


def _authorize_sending_on_the_identity() -> None:
    """G12: ``_ses_v2_resource_arn`` names no resource for ``POST /v2/email/outbound-emails``."""
    resource_arn = iam_actions._ses_v2_resource_arn

    def resource_arn_naming_the_sender(
        method: str, path: str, body: bytes, region: str, account_id: str
    ) -> str:
        if method == "POST" and path.rstrip("/") == "/v2/email/outbound-emails":
            identity = sending_identity(body)
            if identity:
                return f"arn:aws:ses:{region}:{account_id}:identity/{identity}"
        named: str = resource_arn(method, path, body, region, account_id)
        return named

    iam_actions._ses_v2_resource_arn = resource_arn_naming_the_sender


# What the Lambda service does with the execution role's credentials (AWS Lambda Developer
# Guide, "execution role" of each event source, and "on-failure destinations").
SOURCE_READ_ACTIONS = {
    "dynamodb": (
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    ),
    "sqs": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
}
DESTINATION_ACTIONS = {"sqs": "sqs:SendMessage", "sns": "sns:Publish"}
# A poll pass walks the mappings once per source kind; a role's answer is reused this long:
# one IAM evaluation per mapping per pass, and a policy change takes effect on the next pass.
DECISION_SECONDS = 1.0


def role_denial(function: dict[str, Any], action: str, resource_arn: str, region: str) -> str | None:
    """Why the function's execution role may not do ``action`` on ``resource_arn``, or None."""
    config = function.get("config") or function
    access_key = lambda_runtime.execution_credentials(config)["AWS_ACCESS_KEY_ID"]
    service = action.split(":", 1)[0]
    denied = iam_evaluator.enforce(access_key, action, service, region, resource_arn=resource_arn)
    if denied is None:
        return None
    principal = getattr(denied, "principal_arn", "") or config.get("Role", "")
    return f"{principal} is not authorized to perform: {action} on resource: {resource_arn}"


class _MappingDecisions:
    """Whether each mapping's role may read its source, decided at most once a second."""

    def __init__(self) -> None:
        self._decided: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def denial(self, account: str, region: str, mapping: dict[str, Any]) -> str | None:
        uuid = str(mapping.get("UUID"))
        now = time.monotonic()
        with self._lock:
            decided = self._decided.get(uuid)
        if decided is not None and now - decided[0] < DECISION_SECONDS:
            return decided[1]
        denial = self._decide(account, region, mapping)
        with self._lock:
            previous = self._decided.get(uuid)
            self._decided[uuid] = (now, denial)
        if denial != (previous[1] if previous else None):
            self._report(mapping, denial)
        return denial

    @staticmethod
    def _decide(account: str, region: str, mapping: dict[str, Any]) -> str | None:
        source = str(mapping.get("EventSourceArn", ""))
        try:
            actions = SOURCE_READ_ACTIONS.get(parse_arn(source).service, ())
        except ArnParseError:
            return None
        if not actions:
            return None
        account_token = lambda_svc._request_account_id.set(account)
        region_token = lambda_svc._request_region.set(region)
        try:
            function, _config = lambda_svc._get_func_record_for_qualifier(
                mapping.get("FunctionName", ""), mapping.get("Qualifier")
            )
            if function is None:
                return None
            return next(
                (denial for action in actions if (denial := role_denial(function, action, source, region))),
                None,
            )
        finally:
            lambda_svc._request_account_id.reset(account_token)
            lambda_svc._request_region.reset(region_token)

    @staticmethod
    def _report(mapping: dict[str, Any], denial: str | None) -> None:
        function = mapping.get("FunctionName", "")
        if denial is None:
            # What AWS says of a mapping that has read nothing yet; the next batch says "OK".
            mapping["LastProcessingResult"] = "No records processed"
            logger.warning(
                "event source mapping %s of %s reads its source again", mapping.get("UUID"), function
            )
            return
        mapping["LastProcessingResult"] = f"PROBLEM: {denial}"
        logger.warning("event source mapping %s of %s not polled: %s", mapping.get("UUID"), function, denial)


def _mappings_act_as_the_execution_role() -> None:
    """G13: the pollers walk ``_iter_all_esms`` and read every source as ministack itself;
    under AUTH they see only the mappings whose role may read their source, and an
    on-failure record goes out only if the role may send it."""
    send_failure_record = lambda_svc._send_ddb_stream_failure_record
    decisions = _MappingDecisions()

    def mappings_their_roles_may_read() -> Iterator[tuple[str, str, dict[str, Any]]]:
        for account, region, mapping in _every_mapping():
            if (
                ministack_app.AUTH
                and mapping.get("Enabled", True)
                and decisions.denial(account, region, mapping)
            ):
                continue
            yield account, region, mapping

    def send_failure_record_as_the_role(
        mapping: dict[str, Any], function: dict[str, Any], *batch: Any
    ) -> None:
        """``batch``: the records, the stream's ARN, the last result and the condition."""
        destination = str(
            ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination", "")
        )
        if ministack_app.AUTH and destination:
            try:
                action = DESTINATION_ACTIONS.get(parse_arn(destination).service)
            except ArnParseError:
                action = None
            region = lambda_svc.get_region()
            denial = role_denial(function, action, destination, region) if action else None
            if denial:
                logger.warning(
                    "stream batch for %s not sent to its on-failure destination: %s",
                    _name_of(function),
                    denial,
                )
                return
        send_failure_record(mapping, function, *batch)

    lambda_svc._iter_all_esms = mappings_their_roles_may_read
    lambda_svc._send_ddb_stream_failure_record = send_failure_record_as_the_role


def owners_only(policy: str, owner: str) -> str:
    """The default topic policy with the owner condition AWS (and ministack's CreateTopic) puts
    on its statement: without it, ``Principal: *`` lets anyone publish and subscribe."""
    document = json.loads(policy)
    for statement in document.get("Statement", []):
        if statement.get("Sid") == "__default_statement_ID" and "Condition" not in statement:
            statement["Condition"] = {"StringEquals": {"AWS:SourceOwner": owner}}
    return json.dumps(document)


def _topics_of_stacks_get_the_default_policy_aws_gives() -> None:
    """G14: ``provisioners._sns_create`` writes the default statement without its condition."""
    create = provisioners._sns_create

    def create_with_the_owners_default_policy(*args: Any) -> Any:
        created = create(*args)
        topic = sns_svc._topics.get(created[0])
        if topic is not None:
            attributes = topic["attributes"]
            attributes["Policy"] = owners_only(attributes.get("Policy") or "{}", attributes["Owner"])
        return created

    provisioners._sns_create = create_with_the_owners_default_policy  # a replaced topic (TopicName changed)
    provisioners._RESOURCE_HANDLERS["AWS::SNS::Topic"]["create"] = create_with_the_owners_default_policy


def _wildcards_match_line_breaks() -> None:
    """G24: an IAM wildcard (``*``, ``?``) stops at a line break, so a request path holding one
    matches no ``.../*`` of a policy (API Gateway then answers 500); in IAM it matches any
    character."""
    compile_pattern = iam_evaluator._fnmatch_compile

    def compile_matching_any_character(pattern: str, ignore_case: bool) -> re.Pattern[str]:
        compiled = compile_pattern(pattern, ignore_case)
        return re.compile(compiled.pattern, compiled.flags | re.DOTALL)

    iam_evaluator._fnmatch_compile = compile_matching_any_character


def _publish_batch_is_authorized_as_publish() -> None:
    """G22: IAM has no ``sns:PublishBatch`` action; AWS authorizes a PublishBatch as ``sns:Publish``."""
    extract = iam_actions.extract_iam_action

    def action_aws_evaluates(*args: Any) -> str | None:
        action: str | None = extract(*args)
        return "sns:Publish" if action == "sns:PublishBatch" else action

    iam_actions.extract_iam_action = action_aws_evaluates


# AWS: "Specified ReservedConcurrentExecutions for function decreases account's
# UnreservedConcurrentExecution below its minimum value of [100]" (Lambda Developer Guide,
# "Configuring reserved concurrency"); an account whose limit is below 100 may reserve nothing.
MINIMUM_UNRESERVED = 100


def reservation_refusal(function_name: str, requested: int) -> str | None:
    """Why AWS would refuse to reserve ``requested`` executions for the function, or None."""
    limit = lambda_svc._ACCOUNT_CONCURRENCY_CAP
    if limit <= 0:  # LAMBDA_ACCOUNT_CONCURRENCY=0: ministack runs unbounded, nothing to leave
        return None
    others = sum(
        int(lambda_svc._functions[name].get("concurrency") or 0)
        for name in list(lambda_svc._functions.keys())
        if name != function_name
    )
    minimum = min(MINIMUM_UNRESERVED, limit)
    if limit - others - requested >= minimum:
        return None
    return (
        "Specified ReservedConcurrentExecutions for function decreases account's "
        f"UnreservedConcurrentExecution below its minimum value of [{minimum}]."
    )


def _reservations_leave_the_accounts_minimum_unreserved() -> None:
    """G16: ``_put_function_concurrency`` stores any reservation, even one leaving the account
    (``get-account-settings``'s ConcurrentExecutions) fewer than 100 unreserved executions."""
    put = lambda_svc._put_function_concurrency

    def put_within_the_account(func_name: str, data: dict[str, Any]) -> Any:
        if func_name in lambda_svc._functions:
            refusal = reservation_refusal(func_name, int(data.get("ReservedConcurrentExecutions", 0)))
            if refusal:
                return lambda_svc.error_response_json("InvalidParameterValueException", refusal, 400)
        return put(func_name, data)

    lambda_svc._put_function_concurrency = put_within_the_account


Properties = dict[str, Any]


def _reserve_concurrency(function_name: str, properties: Properties) -> None:
    """G16: a function's ReservedConcurrentExecutions, through the Lambda API's own (checked) call."""
    reserved = properties.get("ReservedConcurrentExecutions")
    if reserved is None:
        lambda_svc._delete_function_concurrency(function_name)
        return
    status, _headers, body = lambda_svc._put_function_concurrency(
        function_name, {"ReservedConcurrentExecutions": int(reserved)}
    )
    if status >= 400:
        raise ValueError(json.loads(body).get("message", body))


def _keep_the_topics_key(topic_arn: str, properties: Properties) -> None:
    """G19: the topic's KmsMasterKeyId, as SetTopicAttributes would store it."""
    attributes = sns_svc._topics[topic_arn]["attributes"]
    if properties.get("KmsMasterKeyId"):
        attributes["KmsMasterKeyId"] = properties["KmsMasterKeyId"]
    else:
        attributes.pop("KmsMasterKeyId", None)


def _recover_to_a_point_in_time(table_name: str, properties: Properties) -> None:
    """G20: the table's PointInTimeRecoverySpecification, as UpdateContinuousBackups would store it."""
    specification = properties.get("PointInTimeRecoverySpecification") or {}
    enabled = str(specification.get("PointInTimeRecoveryEnabled", False)).lower() == "true"
    dynamodb_svc._pitr_settings[table_name] = enabled


def _after_provisioning(resource_type: str, apply_properties: Callable[[str, Properties], None]) -> None:
    """Apply ``apply_properties`` to the resource each create and in-place update leaves."""
    handlers = provisioners._RESOURCE_HANDLERS[resource_type]
    create, update = handlers["create"], handlers["update"]

    def create_applying(logical_id: str, properties: Properties, stack_name: str) -> Any:
        physical_id, attributes = create(logical_id, properties, stack_name)
        apply_properties(physical_id, properties)
        return physical_id, attributes

    def update_applying(physical_id: str, old: Properties, new: Properties, *rest: Any) -> Any:
        """``rest``: the stack's name, and the logical id for the handlers that take it."""
        updated_id, attributes = update(physical_id, old, new, *rest)
        apply_properties(updated_id, new)
        return updated_id, attributes

    handlers["create"], handlers["update"] = create_applying, update_applying


def _stacks_apply_what_they_declare() -> None:
    """G16, G19, G20: CloudFormation's provisioners store the resource without these properties."""
    _after_provisioning("AWS::Lambda::Function", _reserve_concurrency)
    _after_provisioning("AWS::SNS::Topic", _keep_the_topics_key)
    _after_provisioning("AWS::DynamoDB::Table", _recover_to_a_point_in_time)


def route_settings(declared: dict[str, Any]) -> dict[str, Any]:
    """A template's route settings (``ThrottlingBurstLimit``) as the API stores and returns them
    (``throttlingBurstLimit``, an integer; ``throttlingRateLimit``, a double)."""
    settings = {name[:1].lower() + name[1:]: value for name, value in declared.items()}
    for name, kind in (("throttlingBurstLimit", int), ("throttlingRateLimit", float)):
        if name in settings:  # a parameter's value reaches the provisioner as a string
            settings[name] = kind(settings[name])
    return settings


def _stages_keep_route_settings_in_the_apis_casing() -> None:
    """G17: ``_apigw_v2_stage_props`` stores DefaultRouteSettings and RouteSettings as written in
    the template, so GetStage through an SDK reads every route's settings back empty."""
    stage_properties = provisioners._apigw_v2_stage_props

    def properties_in_the_apis_casing(properties: Properties) -> dict[str, Any]:
        stage: dict[str, Any] = stage_properties(properties)
        stage["defaultRouteSettings"] = route_settings(stage["defaultRouteSettings"] or {})
        stage["routeSettings"] = {
            route: route_settings(settings or {}) for route, settings in stage["routeSettings"].items()
        }
        return stage

    provisioners._apigw_v2_stage_props = properties_in_the_apis_casing


def route_limits(stage: dict[str, Any], route_key: str) -> tuple[int, float] | None:
    """The route's (burst, rate): its own settings, else the stage's defaults; None if unthrottled
    (AWS then applies only the account's limits, which a local stack never reaches)."""
    default = stage.get("defaultRouteSettings") or {}
    own = (stage.get("routeSettings") or {}).get(route_key) or {}
    burst = own.get("throttlingBurstLimit", default.get("throttlingBurstLimit"))
    rate = own.get("throttlingRateLimit", default.get("throttlingRateLimit"))
    if burst is None or rate is None:
        return None
    return int(burst), float(rate)


class TokenBuckets:
    """API Gateway's throttle: per route, a bucket of ``burst`` tokens refilled at ``rate`` a
    second; a request takes one, and one that finds the bucket empty is refused."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, ...], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple[str, ...], burst: int, rate: float, now: float) -> bool:
        with self._lock:
            tokens, then = self._buckets.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - then) * rate)
            taken = tokens >= 1
            self._buckets[key] = (tokens - 1 if taken else tokens, now)
            return taken


TOO_MANY_REQUESTS = (429, {"Content-Type": "application/json"}, b'{"message":"Too Many Requests"}')
# ministack hands every integration this source address (the event's requestContext.http.sourceIp).
SOURCE_IP = "127.0.0.1"
CONTEXT_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+)")


class AccessLogLine:
    """What API Gateway knows of one request by the time it answers: the ``$context`` variables."""

    def __init__(self, route_key: str, stage: str, method: str, path: str) -> None:
        # An HTTP API's request id: 16 base64 characters, also sent as the apigw-requestid header.
        self.request_id = base64.b64encode(os.urandom(12)).decode()[:16]
        self.started = time.time()
        self.claims: dict[str, Any] = {}
        self.variables: dict[str, str] = {
            "requestId": self.request_id,
            "extendedRequestId": self.request_id,
            "requestTimeEpoch": str(int(self.started * 1000)),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(self.started)),
            "routeKey": route_key,
            "stage": stage,
            "httpMethod": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "identity.sourceIp": SOURCE_IP,
        }

    def answered(self, status: int, body: bytes) -> None:
        self.variables["status"] = str(status)
        self.variables["responseLength"] = str(len(body))
        self.variables["responseLatency"] = str(round((time.time() - self.started) * 1000))

    def value(self, name: str) -> str:
        """A variable's value; "-" for one with none, as in AWS's access logs."""
        if name.startswith("authorizer.claims."):
            claim = self.claims.get(name.removeprefix("authorizer.claims."))
            return "-" if claim is None else str(claim)
        return self.variables.get(name) or "-"

    def formatted(self, log_format: str) -> str:
        # Escaped for JSON: the formats are JSON with each variable inside quotes.
        return CONTEXT_VARIABLE.sub(lambda match: json.dumps(self.value(match[1]))[1:-1], log_format)


# The request being answered on this task, for the authorizer and integration wrappers.
_access_log_line: contextvars.ContextVar[AccessLogLine | None] = contextvars.ContextVar(
    "access_log_line", default=None
)


def write_access_log(api_id: str, stage: str, settings: dict[str, Any], line: str) -> None:
    """One line in the stage's destination log group (no group: dropped, as AWS drops it)."""
    group = cloudwatch_logs._resolve_group_by_arn(str(settings.get("destinationArn", "")))
    if group is None:
        logger.warning("access log of %s/%s dropped: no log group %s", api_id, stage, settings)
        return
    stream = f"{api_id}_{stage}"
    if stream not in cloudwatch_logs._log_groups[group]["streams"]:
        cloudwatch_logs._create_log_stream({"logGroupName": group, "logStreamName": stream})
    event = {"timestamp": int(time.time() * 1000), "message": line}
    cloudwatch_logs._put_log_events({"logGroupName": group, "logStreamName": stream, "logEvents": [event]})


def _stages_throttle_and_log_every_request() -> None:
    """G17, G18: ``_handle_execute_in_scope`` serves every request whatever the stage's throttles,
    and writes no access log line. Throttled first (a 429 runs no authorizer and no function),
    then one line per request, 429s and 401s included, in the stage's AccessLogSettings.Format."""
    execute = http_apis._handle_execute_in_scope
    validate_jwt = http_apis._validate_jwt_authorizer
    invoke_function = http_apis._invoke_lambda_proxy
    proxy_response = lambda_svc.lambda_execute_result_to_api_proxy_response
    buckets = TokenBuckets()

    async def execute_throttled_and_logged(
        api_id: str, stage: str, path: str, method: str, *rest: Any
    ) -> tuple[int, dict[str, Any], bytes]:
        """``rest``: the headers, body, query, owner account and region, raw query string."""
        route = http_apis._match_route(api_id, method, "/" + path.lstrip("/"))
        route_key = str(route.get("routeKey", "$default")) if route else "-"
        stage_record = http_apis._stages.get(api_id, {}).get(stage) or {}
        line = AccessLogLine(route_key, stage, method, path)
        token = _access_log_line.set(line)
        try:
            limits = route_limits(stage_record, route_key) if route else None
            if limits and not buckets.take((api_id, stage, route_key), *limits, time.monotonic()):
                response = (TOO_MANY_REQUESTS[0], dict(TOO_MANY_REQUESTS[1]), TOO_MANY_REQUESTS[2])
            else:
                response = await execute(api_id, stage, path, method, *rest)
        finally:
            _access_log_line.reset(token)
        status, headers, body = response
        headers.setdefault("apigw-requestid", line.request_id)
        settings = stage_record.get("accessLogSettings") or {}
        if settings.get("format"):
            line.answered(status, body if isinstance(body, bytes) else str(body).encode())
            write_access_log(api_id, stage, settings, line.formatted(settings["format"]))
        return response

    async def validate_jwt_remembering_the_caller(*args: Any) -> Any:
        claims, scopes, refusal = await validate_jwt(*args)
        line = _access_log_line.get()
        if line is not None:
            line.claims = dict(claims or {})
            if refusal is not None:
                line.variables["authorizer.error"] = _message_of(refusal[2])
        return claims, scopes, refusal

    async def invoke_function_timed(*args: Any, **kwargs: Any) -> Any:
        started = time.time()
        response = await invoke_function(*args, **kwargs)
        line = _access_log_line.get()
        if line is not None:
            line.variables["integrationLatency"] = str(round((time.time() - started) * 1000))
            line.variables["integrationStatus"] = str(response[0])
        return response

    def proxy_response_remembering_a_failed_invocation(result: dict[str, Any]) -> Any:
        line = _access_log_line.get()
        if line is not None and (result.get("error") or result.get("throttle")):
            line.variables["integrationErrorMessage"] = _message_of(result.get("body"))
        return proxy_response(result)

    http_apis._handle_execute_in_scope = execute_throttled_and_logged
    http_apis._validate_jwt_authorizer = validate_jwt_remembering_the_caller
    http_apis._invoke_lambda_proxy = invoke_function_timed
    lambda_svc.lambda_execute_result_to_api_proxy_response = proxy_response_remembering_a_failed_invocation


def _message_of(body: Any) -> str:
    """The message of an error body: its ``message`` or ``errorMessage``, else the body itself."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError:
            return str(body)
    if isinstance(body, dict):
        return str(body.get("message") or body.get("errorMessage") or json.dumps(body))
    return str(body)


def service_may_invoke(function_ref: str, service: str, source_arn: str) -> bool:
    """Whether the function's resource-based policy lets ``service`` (``apigateway.amazonaws.com``)
    invoke it on behalf of ``source_arn``: what AWS asks before a service invokes a function."""
    function, _config, _name = lambda_svc._get_base_func_record_for_ref(function_ref)
    if function is None:
        return True  # ministack's own "not found" answers it
    arn = function["config"]["FunctionArn"]
    owner = parse_arn(arn)
    context = iam_evaluator.EvalContext(
        principal_arn="*",  # the service itself: no account's principal, as in ministack's own checks
        principal_type="Service",
        principal_account="",
        action="lambda:InvokeFunction",
        resource_arn=arn,
        region=owner.region,
        service_context={"aws:sourcearn": source_arn, "aws:sourceaccount": owner.account_id},
    )
    decision: str = iam_evaluator.evaluate_resource_policy(
        function.get("policy"), context, service=service
    ).decision
    return decision == "Allow"


# What an HTTP API answers, and logs as $context.integrationErrorMessage, for a function whose
# policy does not let API Gateway invoke it.
NOT_PERMITTED = (
    "The IAM role configured on the integration or API Gateway doesn't have permissions to call "
    "the integration. Check the permissions and try again."
)
INTERNAL_SERVER_ERROR = (500, {"Content-Type": "application/json"}, b'{"message":"Internal Server Error"}')


def _services_invoke_only_as_the_functions_policy_allows() -> None:
    """G15 (AUTH=true): API Gateway (``_invoke_lambda_proxy``) and EventBridge (``_invoke_target``)
    invoke a function whatever its resource-based policy (AWS::Lambda::Permission) says."""
    invoke_function = http_apis._invoke_lambda_proxy
    invoke_target = eventbridge._invoke_target

    async def invoke_function_if_permitted(
        integration: dict[str, Any], api_id: str, stage: str, path: str, method: str, *rest: Any, **named: Any
    ) -> Any:
        """``rest``, ``named``: the request's headers, body, query, route and authorizer's context."""
        function = http_apis._extract_lambda_ref_from_integration_uri(integration.get("integrationUri", ""))
        region, account = lambda_svc.get_region(), lambda_svc.get_account_id()
        source = f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method}{path}"
        if ministack_app.AUTH and not service_may_invoke(function, "apigateway.amazonaws.com", source):
            logger.warning("API %s did not invoke %s: its policy does not allow %s", api_id, function, source)
            line = _access_log_line.get()
            if line is not None:
                line.variables["integrationErrorMessage"] = NOT_PERMITTED
            return INTERNAL_SERVER_ERROR[0], dict(INTERNAL_SERVER_ERROR[1]), INTERNAL_SERVER_ERROR[2]
        return await invoke_function(integration, api_id, stage, path, method, *rest, **named)

    def invoke_target_if_permitted(
        target: dict[str, Any], event: Any, rule: dict[str, Any], *rest: Any
    ) -> Any:
        """``rest``: the event's decoded view, when the caller has it."""
        arn, source = str(target.get("Arn", "")), str(rule.get("Arn", ""))
        if (
            ministack_app.AUTH
            and ":lambda:" in arn
            and not service_may_invoke(arn, "events.amazonaws.com", source)
        ):
            # AWS counts it in the rule's FailedInvocations metric, which ministack does not model.
            logger.warning("rule %s did not invoke %s: its policy does not allow the rule", source, arn)
            return None
        return invoke_target(target, event, rule, *rest)

    http_apis._invoke_lambda_proxy = invoke_function_if_permitted
    eventbridge._invoke_target = invoke_target_if_permitted


def with_integer_scaling(props: dict[str, Any]) -> dict[str, Any]:
    """A mapping's properties with ``ScalingConfig``'s values as the integers AWS reads them as."""
    scaling = props.get("ScalingConfig")
    if not scaling:
        return props
    return {**props, "ScalingConfig": {key: int(value) for key, value in scaling.items()}}


def _stacks_give_mappings_their_scaling_as_a_number() -> None:
    """G23: ``_lambda_esm_create``/``_update`` keep ``ScalingConfig`` as the template gave it,
    so a parameter's value (text, as every ``Ref`` is) stops the queue's poller."""
    handlers = provisioners._RESOURCE_HANDLERS["AWS::Lambda::EventSourceMapping"]
    create, update = handlers["create"], handlers["update"]

    def create_with_numbers(logical_id: str, props: dict[str, Any], stack_name: str) -> Any:
        return create(logical_id, with_integer_scaling(props), stack_name)

    def update_with_numbers(
        physical_id: str, old_props: dict[str, Any], new_props: dict[str, Any], stack_name: str
    ) -> Any:
        return update(physical_id, old_props, with_integer_scaling(new_props), stack_name)

    handlers["create"], handlers["update"] = create_with_numbers, update_with_numbers


# Every fix, in the order ``apply`` installs it (some wrap the same ministack function);
# the comment names the gap's section in docs/local-stack.md.
FIXES: tuple[Callable[[], None], ...] = (
    _stream_batches_retry_then_go_to_the_on_failure_destination,  # G1/G2
    _restarts_skip_no_new_stream_records,  # G7
    _discard_only_the_worker_that_failed,  # G11
    _authorize_sending_on_the_identity,  # G12
    _mappings_act_as_the_execution_role,  # G13
    _topics_of_stacks_get_the_default_policy_aws_gives,  # G14
    _publish_batch_is_authorized_as_publish,  # G22
    _wildcards_match_line_breaks,  # G24
    _stacks_give_mappings_their_scaling_as_a_number,  # G23
    _reservations_leave_the_accounts_minimum_unreserved,  # G16
    _stacks_apply_what_they_declare,  # G16, G19, G20
    _stages_keep_route_settings_in_the_apis_casing,  # G17
    _stages_throttle_and_log_every_request,  # G17, G18
    _services_invoke_only_as_the_functions_policy_allows,  # G15
)


def main() -> None:
    apply()
    ministack_main()


if __name__ == "__main__":
    main()
