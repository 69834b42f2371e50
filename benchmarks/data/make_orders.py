"""Writes ``orders.csv``: a seeded orders table with a header (region, product, size, payment) whose
columns depend on each other, adjacent and not: region -> product, product -> size, region ->
payment. Shoe sizes are numbers, clothing sizes letters, and every column has its own values, so a
model that lets values leak across columns is caught (``benchmarks/bench_tables.py``).

    python benchmarks/data/make_orders.py [--rows 20000] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

REGIONS = {"north": 0.35, "south": 0.3, "east": 0.2, "west": 0.15}
PRODUCTS = ["coat", "boots", "scarf", "sandals", "shorts", "hat"]
REGION_PRODUCTS = {  # the products a region mostly buys (DEPENDENCY_NOISE of rows buy any)
    "north": ["coat", "boots", "scarf"], "south": ["sandals", "shorts", "hat"],
    "east": ["coat", "sandals", "hat"], "west": ["boots", "shorts", "scarf"],
}
SIZES = {  # a product's sizes: always one of these
    "coat": ["S", "M", "L", "XL"], "shorts": ["S", "M", "L", "XL"],
    "boots": [str(s) for s in range(38, 47)], "sandals": [str(s) for s in range(36, 44)],
    "scarf": ["one-size"], "hat": ["one-size"],
}
REGION_PAYMENTS = {  # how a region mostly pays (PAYMENT_NOISE of rows pay any way)
    "north": ["card", "invoice"], "south": ["cash", "paypal"], "east": ["card", "paypal"], "west": ["cash", "card"],
}
PAYMENTS = ["card", "cash", "invoice", "paypal"]
DEPENDENCY_NOISE = 0.05  # share of rows whose product ignores the region
PAYMENT_NOISE = 0.1  # share of rows whose payment ignores the region


def dependencies(row: dict) -> dict[str, bool]:
    """Which of the table's dependencies ``row`` (column -> value) keeps."""
    return {
        "region->product": row["product"] in REGION_PRODUCTS[row["region"]],
        "product->size": row["size"] in SIZES[row["product"]],
        "region->payment": row["payment"] in REGION_PAYMENTS[row["region"]],
    }


def make_rows(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        region = rng.choices(list(REGIONS), weights=list(REGIONS.values()))[0]
        products = PRODUCTS if rng.random() < DEPENDENCY_NOISE else REGION_PRODUCTS[region]
        product = rng.choice(products)
        size = rng.choice(SIZES[product])
        payments = PAYMENTS if rng.random() < PAYMENT_NOISE else REGION_PAYMENTS[region]
        rows.append([region, product, size, rng.choice(payments)])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).with_name("orders.csv")))
    args = parser.parse_args()
    with open(args.out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["region", "product", "size", "payment"])
        writer.writerows(make_rows(args.rows, args.seed))


if __name__ == "__main__":
    main()
