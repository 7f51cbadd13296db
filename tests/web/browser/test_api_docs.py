"""In a real browser: /docs (Swagger UI) renders the API's operations from the server's own files; no request
leaves the server (a regulator's intranet has no CDN)."""

from __future__ import annotations

from .conftest import shot


def test_the_api_docs_render_without_the_internet(live, new_page):
    _w, url = live
    page = new_page("en-GB")
    elsewhere: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(url) or r.url.startswith("data:") else elsewhere.append(r.url))
    page.goto(f"{url}/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() > 50  # every operation of /api/v1
    assert "submit_return" in page.content() or "/api/v1/returns" in page.content()
    shot(page, "api-docs")
    assert elsewhere == []
