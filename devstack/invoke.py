"""``make invoke FUNCTION=<name> EVENT=events/<file>.json``: the Docker-free twin of ``sam local invoke``.

Invokes the function deployed on the running local stack (``make run``) with the event,
and prints its response and its log tail.
"""

import argparse
import base64
import json
import os
from pathlib import Path

import boto3

from devstack.config import DevStack
from devstack.deploy import outputs


def deployed_name(stack: DevStack, function: str) -> str:
    """``send_money``, ``SendMoney`` or the deployed name all find the same function."""
    wanted = function.replace("_", "").lower()
    for key, value in outputs(stack).items():
        if key.endswith("FunctionName") and wanted in {
            key.removesuffix("FunctionName").lower(),
            value.lower(),
        }:
            return value
    raise SystemExit(f"no function {function!r} in stack {stack.stack_name}; is `make run` running?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("function", help="e.g. send_money (the folder name under functions/)")
    parser.add_argument("event", type=Path, help="e.g. events/send_money.json")
    arguments = parser.parse_args()
    stack = DevStack()
    os.environ.update(stack.aws_environment())
    answer = boto3.client("lambda").invoke(
        FunctionName=deployed_name(stack, arguments.function),
        Payload=arguments.event.read_bytes(),
        LogType="Tail",
    )
    print("--- log")
    print(base64.b64decode(answer.get("LogResult", "")).decode(errors="replace"))
    print("--- response")
    print(json.dumps(json.loads(answer["Payload"].read() or b"null"), indent=2))


if __name__ == "__main__":
    main()
