"""Benchmark: what an API product adds to the supplier-portal page (routing through the
product's gates, cost analysis, rate limiting), against the same page on /graphql.

Runs the page "50 invoices with lines, supplier, PO and cost center" (bench/portal_page.py)
with N concurrent clients, alternating rounds on /graphql (without) and on
/products/supplier-portal/v1/graphql (with), and prints req/s, p50 and p99 of each.

    python bench/product_overhead.py --base http://127.0.0.1:8100 --token "$TOKEN" \
        --supplier SUP-000123 --clients 8 --seconds 10 --rounds 3

bench/run_product_overhead.sh starts a server whose portal budgets are too large to refuse
(so every request pays for the rate-limit check but none is refused), in memory and then
with Redis. Traffic goes to loopback only.
"""

import argparse
import asyncio
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from portal_page import PAGE_SIZE, PORTAL_PAGE, Result, drive  # noqa: E402

PRODUCT_PATH = "/products/supplier-portal/v1/graphql"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8100")
    parser.add_argument("--token", required=True, help="a supplier user's bearer token")
    parser.add_argument("--supplier", required=True, help="that supplier's id")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2)
    args = parser.parse_args()
    if not args.base.startswith(("http://127.", "http://localhost", "http://[::1]")):
        parser.error("the benchmark only targets servers on loopback")

    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    headers = {"Authorization": f"Bearer {args.token}"}
    payload = {"query": PORTAL_PAGE, "variables": {"supplier": args.supplier, "first": PAGE_SIZE}}
    async with httpx.AsyncClient(
        base_url=args.base, limits=limits, timeout=30, headers=headers
    ) as http:

        def page(path: str):
            async def one() -> int | None:
                response = await http.post(path, json=payload)
                body = response.json()
                if response.status_code != 200 or "errors" in body:
                    raise RuntimeError(f"{path} answered {response.status_code}: {body}")
                if len(body["data"]["invoices"]["edges"]) != PAGE_SIZE:
                    raise RuntimeError(f"{path} returned a short page")
                return body.get("extensions", {}).get("cost", {}).get("estimated")

            return one

        without, with_product = page("/graphql"), page(PRODUCT_PATH)
        await drive("warmup", args.clients, args.warmup, without)
        await drive("warmup", args.clients, args.warmup, with_product)
        results: dict[str, list[Result]] = {"/graphql": [], "product": []}
        for _ in range(args.rounds):  # alternated, so drift on a shared machine hits both
            results["/graphql"].append(await drive("/graphql", args.clients, args.seconds, without))
            results["product"].append(
                await drive("product", args.clients, args.seconds, with_product)
            )

    print(
        f"portal page of {PAGE_SIZE} ({args.supplier}), {args.clients} clients, "
        f"{args.rounds} x {args.seconds:.0f} s each"
    )
    merged = {
        name: Result(
            name,
            [latency for r in runs for latency in r.latencies],
            sum(r.seconds for r in runs),
            [count for r in runs for count in r.statements],
        )
        for name, runs in results.items()
    }
    plain, product = merged["/graphql"], merged["product"]
    for result in (plain, product):
        print(
            f"{result.name:<10} {len(result.latencies):>7} req  {result.rps:>8.1f} req/s  "
            f"p50 {result.percentile(50):>7.2f} ms  p99 {result.percentile(99):>7.2f} ms"
        )
    cost = product.statements[0] if product.statements else "n/a"
    print(
        f"overhead: {1 - product.rps / plain.rps:+.1%} req/s, p50 "
        f"{product.percentile(50) - plain.percentile(50):+.2f} ms, p99 "
        f"{product.percentile(99) - plain.percentile(99):+.2f} ms; the page costs {cost} units"
    )


if __name__ == "__main__":
    asyncio.run(main())
