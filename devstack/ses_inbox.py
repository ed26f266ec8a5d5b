"""The e-mails ministack's SES accepted, as its capture endpoint lists them.

``GET <ministack>/_ministack/ses/messages`` holds every message SES accepted: the app's (from
the stack's ``SenderEmail``) and Cognito's verification codes (``Type``
``CognitoVerificationMessage``). ``make token`` reads the codes here; the tests and the
benchmarks read the app's e-mails.
"""

import json
import urllib.request
from typing import Any

# Cognito's own sign-up e-mail; the app's e-mails come from its SenderEmail.
VERIFICATION_MESSAGE = "CognitoVerificationMessage"


def ses_messages(aws_url: str, timeout_seconds: float = 30) -> list[dict[str, Any]]:
    """Every e-mail ministack's SES accepted (Cognito's codes too), in the order accepted.

    The default timeout is for a capture of thousands of messages on a busy machine; a
    listing normally takes milliseconds."""
    with urllib.request.urlopen(f"{aws_url}/_ministack/ses/messages", timeout=timeout_seconds) as response:  # noqa: S310 - the local AWS
        captured: dict[str, list[dict[str, Any]]] = json.loads(response.read())["messages"]
    messages = [message for by_source in captured.values() for message in by_source]
    return sorted(messages, key=lambda message: float(message["Timestamp"]))


def app_messages(aws_url: str) -> list[dict[str, Any]]:
    """The app's e-mails: without Cognito's own verification messages."""
    return [message for message in ses_messages(aws_url) if message.get("Type") != VERIFICATION_MESSAGE]
