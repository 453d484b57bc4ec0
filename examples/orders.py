"""Parse a JSON order feed and total it per customer.

``json.loads`` turns the text into objects in C but keeps the GIL for the whole call, and the
totals are Python bytecode, so threads cannot run two of these at once; processes can.
Bench it:

    gilbench bench orders:total_by_customer --setup orders:sample_feed
"""

import json
import random


def total_by_customer(feed: str) -> dict:
    """Customer -> total of qty x price over their orders (rounded to cents), sorted by
    customer. Raises ValueError (json) or KeyError on a malformed feed."""
    totals: dict[str, float] = {}
    for order in json.loads(feed)["orders"]:
        amount = sum(line["qty"] * line["price"] for line in order["lines"])
        totals[order["customer"]] = round(totals.get(order["customer"], 0.0) + amount, 2)
    return dict(sorted(totals.items()))


def sample_feed(orders: int = 20_000) -> dict:
    """Setup: a deterministic feed of ``orders`` orders (~3.5 MB of JSON)."""
    rng = random.Random(42)
    feed = {
        "orders": [
            {
                "id": i,
                "customer": f"customer-{rng.randrange(500):03d}",
                "lines": [
                    {
                        "sku": f"SKU-{rng.randrange(10_000)}",
                        "qty": rng.randrange(1, 5),
                        "price": round(rng.uniform(1, 200), 2),
                    }
                    for _ in range(3)
                ],
            }
            for i in range(orders)
        ]
    }
    return {"feed": json.dumps(feed)}
