"""GET /docs in a real headless Chromium: a person pastes a token into Swagger UI and tries a route.

Playwright drives Debian's ``chromium`` (``/usr/bin/chromium``, installed by ``make install``);
Playwright's own browser downloads are never used. The page must show the wallet's operations,
take a customer's ID token through "Authorize" (customerIdToken), and send it on "Execute";
the same call without it is refused by the gateway's JWT authorizer.
"""

import re
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from devstack.documents import new_cpf
from tests.e2e.conftest import Api
from wallet.api.links import GET_ME

CHROMIUM = Path("/usr/bin/chromium")
# Root on a closed network: no sandbox, no GPU, and none of Chromium's own calls home.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ME = f"#operations-default-{GET_ME}"  # Swagger UI names an operation by its operationId
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = [
    pytest.mark.stack,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: `make install` installs it"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # A fresh temporary profile (user-data-dir) per launch; headless is Playwright's default.
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    opened = context.new_page()
    yield opened
    context.close()


def open_docs(page: Page, api: Api) -> None:
    page.goto(f"{api.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("wallet")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    paths = set(operations.locator(".opblock-summary-path").all_inner_texts())
    assert {"/customers", "/customers/me", "/transfers", "/customers/{customer_id}/deposits"} <= {
        path.replace("\u200b", "") for path in paths
    }, paths


def authorize_as_customer(page: Page, token: str) -> None:
    page.locator(".scheme-container button.authorize").click()
    scheme = page.locator(".auth-container").filter(has_text="customerIdToken")
    expect(page.locator(".auth-container").filter(has_text="paymentRailToken")).to_be_visible()
    scheme.locator("input[aria-label='auth-bearer-value']").fill(token)
    scheme.locator("button.authorize").click()
    expect(scheme).to_contain_text("Authorized")
    scheme.locator("button.btn-done").click()
    expect(page.locator(".modal-ux")).to_have_count(0)


def execute_me(page: Page) -> tuple[str, str]:
    """Expand GET /customers/me, Try it out, Execute: the status and body Swagger UI shows."""
    operation = page.locator(ME)
    operation.locator(".opblock-summary-control").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    response = operation.locator(".live-responses-table .response")
    expect(response.locator(".response-col_status")).to_have_text(re.compile(r"^\s*\d{3}"))
    status = response.locator(".response-col_status").inner_text().strip()
    body = response.locator(".response-col_description").inner_text()
    return status, body


def assert_real_png(path: Path, min_width: int = 800, min_height: int = 500) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), data[:8]
    width, height = struct.unpack(">II", data[16:24])  # IHDR comes first
    assert (width, height) >= (min_width, min_height), (width, height)
    assert len(data) > 20_000, len(data)  # a blank page compresses to a few kilobytes


def test_a_person_authorizes_with_an_id_token_and_tries_customers_me(
    api: Api, page: Page, tmp_path: Path
) -> None:
    email = f"docs-{uuid.uuid4().hex[:12]}@example.com"
    token = api.cognito.admin_customer_token(email)
    registered = api.post(
        "/customers",
        {"name": "Cliente Docs", "document": new_cpf()},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert registered.status == 201, registered

    open_docs(page, api)
    authorize_as_customer(page, token)
    expect(page.locator(f"{ME} button[aria-label='authorization button locked']")).to_be_visible()
    status, body = execute_me(page)

    assert status == "200", (status, body)
    assert email in body and registered.body["id"] in body, body
    curl = page.locator(f"{ME} .curl-command").inner_text()
    assert f"Authorization: Bearer {token}" in curl, curl
    screenshot = tmp_path / "docs-customers-me-200.png"
    page.locator(ME).screenshot(path=screenshot)
    assert_real_png(screenshot)


def test_without_authorizing_the_same_call_is_401(api: Api, page: Page, tmp_path: Path) -> None:
    open_docs(page, api)
    expect(page.locator(f"{ME} button[aria-label='authorization button unlocked']")).to_be_visible()
    status, body = execute_me(page)

    assert status == "401", (status, body)
    assert "Unauthorized" in body, body
    assert "Authorization: Bearer" not in page.locator(f"{ME} .curl-command").inner_text()
    screenshot = tmp_path / "docs-customers-me-401.png"
    page.locator(ME).screenshot(path=screenshot)
    assert_real_png(screenshot)
