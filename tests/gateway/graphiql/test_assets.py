"""The vendored IDE: every file matches SHA256SUMS, carries its licence, and is served."""

import hashlib
import re
from pathlib import Path

import httpx

from apgraph.gateway.graphiql import page

ASSETS = Path(page.__file__).parent / "assets"


def test_every_vendored_file_matches_its_sha256_and_nothing_is_unlisted():
    listed = page.manifest()
    on_disk = {p.name for p in ASSETS.iterdir()} - {"SHA256SUMS", "SOURCES.md"}
    assert set(listed) == on_disk
    for name, digest in listed.items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == digest, name


def test_each_vendored_package_ships_its_licence():
    sources = (ASSETS / "SOURCES.md").read_text()
    for licence in ("LICENSE.react", "LICENSE.react-dom", "LICENSE.graphiql"):
        assert "MIT License" in (ASSETS / licence).read_text()
        assert licence in sources


def test_the_page_loads_each_asset_with_its_integrity_and_the_server_serves_those_bytes(
    live_api,
):
    base = str(live_api.client.base_url)
    html = httpx.get(f"{base}/graphql", headers={"accept": "text/html"}).text
    loaded = re.findall(r'(?:src|href)="/graphiql/assets/([^"]+)" integrity="([^"]+)"', html)
    assert {name for name, _ in loaded} == {
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "graphiql.min.css",
    }
    for name, integrity in loaded:
        assert integrity == page.subresource_integrity(name)
        served = httpx.get(f"{base}/graphiql/assets/{name}")
        assert served.status_code == 200
        assert hashlib.sha256(served.content).hexdigest() == page.manifest()[name]


def test_nothing_but_listed_assets_is_served(live_api):
    base = str(live_api.client.base_url)
    for name in ("SHA256SUMS", "..%2Fpage.py", "page.html", "nope.js"):
        assert httpx.get(f"{base}/graphiql/assets/{name}").status_code == 404
