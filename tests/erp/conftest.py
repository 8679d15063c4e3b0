"""Fixtures: a respx router with the fake ERP, and a client configured for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
import respx
from erp_fake import ACCOUNT, APP_ID, APP_NAME, BASE_URL, LOGIN_URL, PASSWORD, FakeErp

from bff.erp import ErpClient, ErpClientConfig


@pytest.fixture
def config() -> ErpClientConfig:
    return ErpClientConfig(
        login_url=LOGIN_URL, base_url=BASE_URL, app_id=APP_ID, app_name=APP_NAME, account=ACCOUNT,
        password=PASSWORD, timeout_s=0.5, deadline_s=1.0, retries=3,
    )


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    # Mocked in front of the client's transport, whatever it is (the ERP's is aiohttp's pool).
    with respx.mock(assert_all_called=False, using="httpx") as mock:
        yield mock


@pytest.fixture
def erp(router: respx.MockRouter) -> FakeErp:
    return FakeErp(router)


@pytest_asyncio.fixture
async def client(config: ErpClientConfig, erp: FakeErp) -> AsyncIterator[ErpClient]:
    c = ErpClient(config)
    yield c
    await c.aclose()
