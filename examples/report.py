"""Query SQLite: revenue per region over 200,000 sales, one connection per call.

SQLite runs the query in C with the GIL released, so threads overlap the queries. Bench it:

    gilbench bench report:revenue_by_region --setup report:sample_database
"""

import os
import random
import sqlite3
import tempfile


def revenue_by_region(path: str) -> list:
    """``(region, sales, revenue)`` rows, by region, for sales over 10 of products with a 7
    in their name; ``sqlite3.Error`` when the file is not such a database."""
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT region, COUNT(*), ROUND(SUM(qty * price), 2) FROM sales"
            " WHERE price > 10 AND product LIKE '%7%' GROUP BY region ORDER BY region"
        ).fetchall()


def sample_database(rows: int = 200_000) -> dict:
    """Setup: a database file of ``rows`` deterministic sales (made once, then reused)."""
    path = os.path.join(tempfile.gettempdir(), f"gilbench-example-sales-{rows}.sqlite")
    if not os.path.exists(path):
        rng = random.Random(7)
        tmp = f"{path}.{os.getpid()}"
        with sqlite3.connect(tmp) as db:
            db.execute("CREATE TABLE sales (region TEXT, product TEXT, qty INTEGER, price REAL)")
            db.executemany(
                "INSERT INTO sales VALUES (?, ?, ?, ?)",
                (
                    (
                        rng.choice(["north", "south", "east", "west"]),
                        f"P{rng.randrange(5000)}",
                        rng.randrange(1, 9),
                        rng.uniform(1, 100),
                    )
                    for _ in range(rows)
                ),
            )
        db.close()
        os.replace(tmp, path)
    return {"path": path}
