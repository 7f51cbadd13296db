"""Browser tests: the app served by uvicorn on 127.0.0.1 (a free port, in a thread of the test process, with its
lifespan: the job runner that scores runs there too) over the web tests' world (SQLite file), driven by Playwright through Debian's chromium (``executable_path``; a
browser is never downloaded). Every test here is marked ``browser``. ``shot(page, name)`` saves a screenshot
under ``FINTECH_EVAL_SCREENSHOTS`` (default ``build/screenshots``), the pictures the README shows."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..conftest import PASSWORD, World

CHROMIUM = os.environ.get("FINTECH_EVAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("FINTECH_EVAL_SCREENSHOTS", Path(__file__).parents[3] / "build" / "screenshots"))


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 in a thread; ``url`` once it listens."""

    def __init__(self, app):
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                                    lifespan="on"))  # the lifespan runs the job runner (scoring)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live(world: World) -> Iterator[tuple[World, str]]:
    """The world and the base URL of a server answering for it."""
    with LiveServer(world.app) as server:
        yield world, server.url


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium) -> Iterator[Callable[..., object]]:
    """``new_page(locale="zh-CN")``: a page in a fresh browser context (its own cookies: one person)."""
    contexts = []

    def make(locale: str = "zh-CN"):
        ctx = chromium.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, url: str, email: str, then: str = "/", password: str = PASSWORD) -> None:
    """Sign in through the sign-in page and land on ``then`` (the page's ``next``)."""
    page.goto(f"{url}/sign-in?next={then}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}{then}")
