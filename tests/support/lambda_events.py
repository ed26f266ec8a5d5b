"""Real API Gateway HTTP API (payload v2) events for driving the Lambda handlers in-process.

The samples in ``events/`` are the same files ``sam local invoke -e events/<name>.json`` uses;
tests load one and fill in what the request is about (path, body, headers, request id).
The handlers themselves are the functions' real ``app.py`` entry points, loaded by path
because every function's module is called ``app``.
"""

import importlib.util
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any, Final, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from devstack.config import ROOT
from wallet import bootstrap

EVENTS = ROOT / "events"
FUNCTIONS = ROOT / "functions"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class _Keep:
    """Marks an argument left as the sample has it."""


KEEP: Final = _Keep()


@cache
def _sample_text(name: str) -> str:
    return (EVENTS / f"{name}.json").read_text()


def sample(name: str) -> dict[str, Any]:
    """A fresh copy of ``events/<name>.json``."""
    event: dict[str, Any] = json.loads(_sample_text(name))
    return event


def http_event(
    name: str,
    *,
    path: str | None = None,
    path_parameters: Mapping[str, str] | _Keep | None = KEEP,
    body: object = KEEP,
    headers: Mapping[str, str | None] | None = None,
    method: str | None = None,
    query: Mapping[str, str] | None = None,
    claims: Mapping[str, str] | _Keep | None = KEEP,
) -> dict[str, Any]:
    """The sample ``name`` with the given request filled in and a fresh request id.

    ``body``: a ``str`` is sent as it is (for bodies that are not JSON); ``None`` removes it;
    anything else is serialised with ``json.dumps``. ``headers`` entries set to ``None`` are
    removed. The route key is left as in the sample: API Gateway resolves it, not the handler.
    ``claims`` are what the gateway's JWT authorizer verified (``tests.support.identities``);
    ``None`` leaves the authorizer out, as for a request that never went through it.
    """
    event = sample(name)
    context = event["requestContext"]
    if path is not None:
        event["rawPath"] = path
        context["http"]["path"] = path
    if method is not None:
        context["http"]["method"] = method
    if not isinstance(path_parameters, _Keep):
        if path_parameters is None:
            event.pop("pathParameters", None)
        else:
            event["pathParameters"] = dict(path_parameters)
    event_headers: dict[str, str] = event["headers"]
    if not isinstance(body, _Keep):
        if body is None:
            event.pop("body", None)
            event_headers.pop("content-length", None)
        else:
            text = body if isinstance(body, str) else json.dumps(body)
            event["body"] = text
            event["isBase64Encoded"] = False
            event_headers["content-length"] = str(len(text.encode()))
    _set_headers(event_headers, headers or {})
    if query:
        event["queryStringParameters"] = dict(query)
        event["rawQueryString"] = "&".join(f"{key}={value}" for key, value in query.items())
    if not isinstance(claims, _Keep):
        _authorize(context, claims)
    context["requestId"] = uuid.uuid4().hex
    return event


def deposit_event(
    customer_id: str, body: object, reference: str | None, claims: Mapping[str, str] | None
) -> dict[str, Any]:
    """POST /customers/{customer_id}/deposits with ``body``, under the rail's ``reference`` (its
    Idempotency-Key; ``None``: without one), from whoever holds ``claims``."""
    return http_event(
        "deposit",
        path=f"/customers/{customer_id}/deposits",
        path_parameters={"customer_id": customer_id},
        body=body,
        headers={"idempotency-key": reference},
        claims=claims,
    )


def _set_headers(event_headers: dict[str, str], headers: Mapping[str, str | None]) -> None:
    for header, value in headers.items():
        if value is None:
            event_headers.pop(header.lower(), None)
        else:
            event_headers[header.lower()] = value


def _authorize(context: dict[str, Any], claims: Mapping[str, str] | None) -> None:
    if claims is None:
        context.pop("authorizer", None)
        return
    scopes = str(claims.get("scope", "")).split() or None
    context["authorizer"] = {"jwt": {"claims": dict(claims), "scopes": scopes}}


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Lambda runtime's context object that Powertools reads."""

    function_name: str = "wallet-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/wallet-test"
    log_stream_name: str = "2026/01/01/[$LATEST]0123456789abcdef"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _import_app(function: str, module_name: str) -> ModuleType:
    path = FUNCTIONS / function / "app.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def _app_module(function: str) -> ModuleType:
    """``functions/<function>/app.py``, imported once under a unique name."""
    return _import_app(function, f"functions_{function}_app")


def handler(function: str) -> Handler:
    """``functions/<function>/app.py``'s ``lambda_handler``."""
    return cast(Handler, _app_module(function).lambda_handler)


def resolver(function: str) -> APIGatewayHttpResolver:
    """An API function's resolver (its ``app``), whose ``dependency_overrides`` a test may set."""
    return cast(APIGatewayHttpResolver, _app_module(function).app)


def fresh_handler(function: str) -> Handler:
    """The same handler as in a cold container: imported again, with nothing the layer caches
    (clients, settings) built yet, so nothing outlives the test's tables."""
    bootstrap.forget_all()
    return cast(Handler, _import_app(function, f"fresh_{function}_{uuid.uuid4().hex}").lambda_handler)


@dataclass(frozen=True)
class ApiResponse:
    """A handler's answer (API Gateway v2 proxy result), with the body kept as sent."""

    status: int
    headers: Mapping[str, str]
    body: str

    @classmethod
    def of(cls, result: Mapping[str, Any]) -> "ApiResponse":
        headers = {str(name).lower(): str(value) for name, value in (result.get("headers") or {}).items()}
        return cls(status=int(result["statusCode"]), headers=headers, body=str(result.get("body") or ""))

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def invoke(function: str, event: dict[str, Any]) -> ApiResponse:
    """Run the function's real handler on ``event``, as Lambda would."""
    return ApiResponse.of(handler(function)(event, LambdaContext(function_name=function)))
