"""``/docs``: the API's interactive documentation (Swagger UI) served by this server, its script and style
from the ``fastapi-offline`` package (Swagger UI 5: it reads OpenAPI 3.1, which FastAPI writes), so that it works
where the server has no internet (FastAPI's default page fetches them from a CDN: a regulator's intranet shows a
blank page)."""

from __future__ import annotations

import functools

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response

ASSETS = {"swagger-ui-bundle.js": "application/javascript", "swagger-ui.css": "text/css", "favicon.png": "image/png"}


@functools.cache
def _asset(name: str) -> bytes:
    from importlib.resources import files

    return (files("fastapi_offline") / "static" / name).read_bytes()


def install(app: FastAPI, openapi_url: str) -> None:
    """``/docs``, ``/docs/oauth2-redirect`` and ``/assets/swagger/<file>`` (create the app with ``docs_url=None``)."""
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi_url, title=f"{app.title} API",
                                   swagger_js_url="/assets/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/assets/swagger/swagger-ui.css",
                                   swagger_favicon_url="/assets/swagger/favicon.png",
                                   oauth2_redirect_url="/docs/oauth2-redirect")

    async def redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    def asset(name: str) -> Response:
        if name not in ASSETS:
            return Response(status_code=404)
        return Response(_asset(name), media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"})

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs/oauth2-redirect", redirect, methods=["GET"], include_in_schema=False)
    app.add_api_route("/assets/swagger/{name}", asset, methods=["GET"], include_in_schema=False)
