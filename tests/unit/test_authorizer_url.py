"""The authorizer's URL has no default and is https:// wherever it can reach AWS.

template.yaml's ``AuthorizerUrl`` (AllowedPattern) and the functions' settings
(``AUTHORIZER_URL``) refuse the same URLs; samconfig.toml's AWS environment supplies none.
"""

import re
import tomllib

import pytest
from pydantic import ValidationError

from devstack.config import ROOT
from devstack.template import template_parameters
from wallet.settings import AUTHORIZER_URL_PATTERN, AuthorizerSettings

ACCEPTED = [
    "https://util.devi.tools/api/v2/authorize",
    "https://authorizer.example.com",
    "https://authorizer.example.com:8443/v1/authorize?merchant=1",
    "http://127.0.0.1:3001/",  # devstack's stub (make run, the tests)
    "http://localhost:3001/",
    "http://[::1]:3001/",
    "http://host.docker.internal:3001/",  # the LocalStack path's stub
]
REFUSED = [
    "http://util.devi.tools/api/v2/authorize",  # plain http to the internet
    "http://10.0.0.5/authorize",
    "http://127.0.0.1.attacker.example/",  # looks local, is not
    "http://localhost.attacker.example/",
    "https://user:secret@authorizer.example.com/",  # credentials in the URL
    "https:///no-host",
    "https://authorizer.example.com/with space",
    "ftp://authorizer.example.com/",
    "authorizer.example.com",
    "",
]


def test_the_template_requires_the_url_and_checks_it_as_the_settings_do() -> None:
    parameter = template_parameters()["AuthorizerUrl"]

    assert "Default" not in parameter
    assert parameter["AllowedPattern"] == AUTHORIZER_URL_PATTERN


def test_samconfig_supplies_no_authorizer_url_to_aws() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())

    for command in config["default"].values():
        assert "AuthorizerUrl" not in str(command.get("parameter_overrides", ""))


@pytest.mark.parametrize("url", ACCEPTED)
def test_https_anywhere_and_plain_http_only_to_a_local_stub(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTHORIZER_URL", url)

    assert AuthorizerSettings.from_environment().authorizer_url == url
    # CloudFormation matches the whole value against the AllowedPattern.
    assert re.fullmatch(AUTHORIZER_URL_PATTERN, url)


@pytest.mark.parametrize("url", REFUSED)
def test_any_other_url_is_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHORIZER_URL", url)

    with pytest.raises(ValidationError):
        AuthorizerSettings.from_environment()
    assert not re.fullmatch(AUTHORIZER_URL_PATTERN, url)
