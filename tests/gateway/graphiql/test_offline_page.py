"""GraphiQL in a real browser with no network beyond the server: it loads, runs, answers."""

import re

import httpx
import pytest

from tests.browser import offline_page

PRODUCT_IDES = ("/products/finance-ops/v1/graphql",)


async def test_graphiql_loads_offline_runs_the_preloaded_query_and_shows_the_answer(
    live_api, chromium
):
    origin = str(live_api.client.base_url).rstrip("/")
    # the answer the page must show, asked over plain HTTP with the demo reader's rights
    expected = (await live_api.data("{ invoices(first: 5) { totalCount } }"))["invoices"]

    async with offline_page(chromium, origin) as opened:
        page = opened.page
        # when a browser on this machine opens the demo reader's product's GraphiQL, with
        # every other host unreachable
        await page.goto(f"{origin}/products/finance-ops/v1/graphql")
        # then it says who is signed in
        banner = page.locator("#signed-in")
        await banner.wait_for()
        assert "Signed in as graphiql.demo" in await banner.inner_text()
        # and the IDE renders with the preloaded example
        run = page.locator(".graphiql-execute-button")
        await run.wait_for(timeout=30_000)
        editor = page.locator(".graphiql-query-editor")
        assert "WhoAmIAndRecentInvoices" in await editor.inner_text()

        # when the preloaded query runs
        await run.click()
        result = page.locator(".result-window")
        await result.get_by_text('"totalCount"').wait_for(timeout=30_000)
        text = await result.inner_text()

        # then the page shows the server's answer for the signed-in reader
        assert re.search(rf'"totalCount":\s*{expected["totalCount"]}\b', text), text
        assert '"subject": "graphiql.demo"' in text
        # and it asked nothing of any other host, and nothing failed in the page
        assert opened.refused == []
        assert opened.console_errors == []


@pytest.mark.parametrize("path", ["/products/finance-ops/v1/graphql", "/graphql"])
def test_the_page_itself_names_no_other_host(live_api, path):
    base = str(live_api.client.base_url)
    page = httpx.get(f"{base}{path}", headers={"accept": "text/html"}).text
    referenced = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert referenced
    # its assets, and (on /graphql) the link to the demo reader's product IDE
    local = [url for url in referenced if url.startswith("/graphiql/assets/")]
    assert local
    assert [url for url in referenced if url not in local and url not in PRODUCT_IDES] == []
