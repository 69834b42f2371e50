"""Writes ``events.csv``: a seeded long-form event log (user, ts, action, plan), one row an event.

Each user has one plan (the context column: one value per user) and one session of 1 to
``MAX_EVENTS`` actions, a Markov chain over ``ACTIONS`` whose transitions and whose chance to end
after each action depend on the plan: free users browse briefly and rarely buy, pro users search
and buy, team users share and invite and stay longest. ``ts`` is a timestamp in seconds, and the
rows are shuffled, so only sorting by ``ts`` gives a session back in order
(``benchmarks/bench_tables.py --events``).

    python benchmarks/data/make_events.py [--users 20000] [--seed 0] [--out benchmarks/data/events.csv]
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

PLANS = {"free": 0.5, "pro": 0.35, "team": 0.15}  # share of users on each plan
ACTIONS = ["login", "search", "view", "cart", "buy", "share", "invite", "logout"]
MAX_EVENTS = 12  # a session is cut after this many actions
FIRST = {  # the first action of a session, per plan
    "free": {"login": 0.6, "view": 0.3, "search": 0.1},
    "pro": {"login": 0.8, "search": 0.2},
    "team": {"login": 0.9, "view": 0.1},
}
NEXT = {  # plan -> action -> the next action's weights
    "free": {"login": {"view": 6, "search": 3, "logout": 1}, "search": {"view": 7, "search": 2, "logout": 1},
             "view": {"view": 5, "search": 2, "cart": 1, "logout": 2}, "cart": {"buy": 3, "view": 5, "logout": 2},
             "buy": {"logout": 6, "view": 4}, "logout": {"login": 1}},
    "pro": {"login": {"search": 6, "view": 4}, "search": {"view": 8, "search": 2},
            "view": {"view": 3, "cart": 4, "search": 2, "logout": 1}, "cart": {"buy": 8, "view": 2},
            "buy": {"logout": 5, "search": 3, "share": 2}, "share": {"logout": 1, "view": 1}, "logout": {"login": 1}},
    "team": {"login": {"view": 4, "share": 3, "invite": 3}, "view": {"share": 4, "view": 3, "cart": 2, "logout": 1},
             "share": {"invite": 4, "view": 4, "logout": 2}, "invite": {"share": 3, "view": 4, "logout": 3},
             "cart": {"buy": 7, "view": 3}, "buy": {"share": 5, "logout": 5}, "logout": {"login": 1}},
}
END = {"free": 0.35, "pro": 0.2, "team": 0.12}  # chance the session ends after an action (not after login)


def session(plan: str, rng: random.Random) -> list[str]:
    """One user's actions, in order."""
    first = FIRST[plan]
    actions = [rng.choices(list(first), weights=list(first.values()))[0]]
    while len(actions) < MAX_EVENTS:
        if actions[-1] == "logout" or (actions[-1] != "login" and rng.random() < END[plan]):
            break
        weights = NEXT[plan][actions[-1]]
        actions.append(rng.choices(list(weights), weights=list(weights.values()))[0])
    return actions


def make_users(n: int, seed: int) -> list[tuple[str, list[str]]]:
    """``n`` users as (plan, actions): the true distribution, for measuring a model against."""
    rng = random.Random(seed)
    plans = rng.choices(list(PLANS), weights=list(PLANS.values()), k=n)
    return [(plan, session(plan, rng)) for plan in plans]


def make_rows(n: int, seed: int) -> list[dict]:
    """The event log of ``n`` users: one dict a row (user, ts, action, plan), rows shuffled."""
    rng = random.Random(seed + 1)
    rows = []
    for i, (plan, actions) in enumerate(make_users(n, seed)):
        ts = 1_700_000_000 + rng.randrange(30 * 86_400)  # the session's start, within a month
        for action in actions:
            rows.append({"user": f"u{i:05d}", "ts": ts, "action": action, "plan": plan})
            ts += rng.randint(1, 300)  # seconds to the next action
    rng.shuffle(rows)
    return rows


def write(path: str | Path, users: int, seed: int) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, ["user", "ts", "action", "plan"])
        writer.writeheader()
        writer.writerows(make_rows(users, seed))
    return Path(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).with_name("events.csv")))
    args = parser.parse_args()
    write(args.out, args.users, args.seed)


if __name__ == "__main__":
    main()
