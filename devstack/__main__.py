"""``make run``: the whole system on this machine, no Docker, no AWS account.

ministack (the local AWS) on 127.0.0.1:4566 with its state in .local/, the app deployed to
it with SAM exactly as to AWS, the authorizer stub, and the API on 127.0.0.1:3000. Once
ready it prints the user pool, its clients and the commands that print tokens (``make
token``, ``make rail-token``: devstack/tokens.py). Ctrl-C stops everything.
"""

import os
import signal
import threading
import time
from types import FrameType

from devstack.config import DevStack
from devstack.logs import LogFollower
from devstack.progress import print_progress
from devstack.stack import running_stack


def function_names(outputs: dict[str, str]) -> dict[str, str]:
    """Short name -> deployed name, from the outputs named ``<Name>FunctionName``."""
    suffix = "FunctionName"
    return {key.removesuffix(suffix): value for key, value in outputs.items() if key.endswith(suffix)}


def identity_lines(outputs: dict[str, str]) -> list[str]:
    """Who may call the API (the stack's outputs) and how to get a token for it."""
    return [
        f"user pool {outputs['UserPoolId']}; customers' client {outputs['UserPoolClientId']}; "
        f"payment rail's client {outputs['PaymentRailClientId']}",
        "a customer's ID token: make -s token EMAIL=ana@example.com [PASSWORD=...] "
        "(signs up, confirms, signs in)",
        "the payment rail's access token (deposits): make -s rail-token",
    ]


def main() -> None:
    stack = DevStack()
    # This process and everything it starts talk to ministack, never to an AWS account.
    os.environ.update(stack.aws_environment())
    started = time.monotonic()
    stopping = threading.Event()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with running_stack(stack, stack.state_dir, print_progress) as running:
        follower = LogFollower(stack.endpoint, function_names(running.outputs), print_progress).start()
        print_progress(
            f"ready in {time.monotonic() - started:.0f} s; e-mails: {stack.endpoint}/_ministack/ses/messages"
        )
        for line in identity_lines(running.outputs):
            print_progress(line)
        print_progress("Ctrl-C stops everything")
        stopping.wait()
        print_progress("stopping")
        follower.stop()
    print_progress("stopped")


if __name__ == "__main__":
    main()
