"""GraphiQL that works offline: strawberry's page, its unpkg.com assets served from local files.

`make install` runs `npm ci` in ``bff/web/web_assets`` (package.json pins the versions strawberry's
page names). Each asset installed there at that version is served under ``/graphiql/static/``
and the page points at it; an asset not installed stays on unpkg.com, so a checkout without
npm still gets GraphiQL when online. The page keeps its ``integrity`` hashes: the browser
checks the local files byte for byte against what the CDN would have sent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route
from strawberry.http.ides import get_graphql_ide_html

NODE_MODULES = Path(__file__).resolve().parent / "web_assets" / "node_modules"
STATIC_PREFIX = "/graphiql/static/"
# The version is part of every path, so a cached copy never goes stale.
CACHE_CONTROL = "public, max-age=31536000, immutable"

_CDN_URL = re.compile(r"https://unpkg\.com/(?P<ref>(?P<package>(?:@[\w.-]+/)?[\w.-]+)@(?P<version>[\w.-]+)/(?P<file>[\w./-]+))")


@dataclass(frozen=True)
class Asset:
    """One script or stylesheet of the page: ``package@version/file``, as unpkg names it."""

    package: str
    version: str
    file: str

    @property
    def ref(self) -> str:
        return f"{self.package}@{self.version}/{self.file}"


def page_assets(html: str) -> list[Asset]:
    """The CDN assets a GraphiQL page loads, in page order."""
    return [Asset(m["package"], m["version"], m["file"]) for m in _CDN_URL.finditer(html)]


def local_file(asset: Asset, node_modules: Path = NODE_MODULES) -> Path | None:
    """The installed copy of ``asset``, or None when absent or installed at another version."""
    package_dir = node_modules / asset.package
    try:
        installed = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return None
    path = package_dir / asset.file
    return path if installed == asset.version and path.is_file() else None


def graphiql_page(node_modules: Path = NODE_MODULES) -> str:
    """Strawberry's GraphiQL page, every locally installed asset pointed at the BFF."""

    def point(match: re.Match[str]) -> str:
        asset = Asset(match["package"], match["version"], match["file"])
        return STATIC_PREFIX + asset.ref if local_file(asset, node_modules) else match[0]

    return _CDN_URL.sub(point, get_graphql_ide_html(graphql_ide="graphiql"))


async def static_asset(request: Request) -> FileResponse:
    """Serves only the assets the page names (node_modules itself is not browsable)."""
    ref = request.path_params["ref"]
    html = get_graphql_ide_html(graphql_ide="graphiql")
    asset = next((a for a in page_assets(html) if a.ref == ref), None)
    path = local_file(asset) if asset else None
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, headers={"Cache-Control": CACHE_CONTROL})


def graphiql_routes() -> list[Route]:
    return [Route(STATIC_PREFIX + "{ref:path}", static_asset)]
