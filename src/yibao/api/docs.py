"""The console API's interactive documentation, served from yibao's own assets.

FastAPI's default /docs page loads Swagger UI from a CDN; the insurance private network is
offline, so the page is built here on the vendored swagger-ui-dist (web/static/vendor).
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from yibao.api.security import csp_with_script_hashes
from yibao.runtime import Platform

VENDOR = "/static/vendor/swagger-ui"


def mount(app: FastAPI, platform: Platform) -> None:
    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="yibao 接口文档 (console API)",
            swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/favicon-32x32.png",
            # Swagger UI would otherwise ask validator.swagger.io to check the spec.
            swagger_ui_parameters={"validatorUrl": None},
        )
        # Swagger UI starts from one inline script: allow exactly that one (by its hash).
        body = bytes(page.body).decode()
        hashes = [
            base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
            for code in re.findall(r"<script>(.*?)</script>", body, flags=re.S)
        ]
        page.headers["Content-Security-Policy"] = csp_with_script_hashes(hashes)
        return page
