"""The API documentation works inside the offline private network: no CDN anywhere."""

import re

import httpx

from yibao.api.app import create_app
from yibao.config import Settings


async def test_docs_page_and_its_assets_are_served_locally(settings: Settings) -> None:
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            page = await client.get("/docs")
            assert page.status_code == 200
            urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
            assert urls, page.text
            assert '"validatorUrl": null' in page.text
            for url in urls:
                assert url.startswith("/"), f"external asset {url}"
                assert (await client.get(url)).status_code == 200, url
            assert (await client.get("/openapi.json")).json()["info"]["title"] == "yibao"
            assert (await client.get("/redoc")).status_code == 404
    finally:
        app.state.platform.close()
