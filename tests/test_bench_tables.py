"""The tables benchmark's event-log section: long-form samples regrouped in ``ts`` order, its TVs,
and a run of one section keeping the other sections' rows in the results file."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_tables  # noqa: E402
import make_events  # noqa: E402


def test_long_form_records_regroup_in_ts_order():
    records = [{"user": 1, "ts": 2, "action": "buy", "plan": "pro"}, {"user": 0, "ts": 0, "action": "login", "plan": "free"},
               {"user": 1, "ts": 0, "action": "login", "plan": "pro"}, {"user": 1, "ts": 1, "action": "cart", "plan": "pro"}]
    assert sorted(bench_tables.sessions_of(records)) == [("free", ["login"]), ("pro", ["login", "cart", "buy"])]


def test_event_tvs_are_zero_for_the_same_users_and_see_a_changed_plan():
    users = make_events.make_users(500, 0)
    assert all(v == 0 for v in bench_tables.event_tvs(users, users).values())
    moved = [("free", a) if p == "team" else (p, a) for p, a in users]  # every team user now free
    tvs = bench_tables.event_tvs(moved, users)
    assert tvs["event_tv_team"] == 1.0 and tvs["context_tv"] > 0.1 and tvs["length_tv"] == 0


def test_the_event_log_is_shuffled_and_ts_gives_each_session_back():
    rows = make_events.make_rows(200, 0)
    users = make_events.make_users(200, 0)
    assert [r["user"] for r in rows] != sorted(r["user"] for r in rows)  # ts, not the file's order, sorts
    by_user = bench_tables.sessions_of(rows)
    assert sorted(by_user) == sorted(users)


def test_a_run_of_one_section_keeps_the_others(tmp_path):
    path = tmp_path / "tables.json"
    path.write_text(json.dumps({"command": "old", "date": "2026-01-01",
                                "raw": {"orders": [{"seed": 0}], "checkdigit": [{"seed": 0}]}}))
    kept = bench_tables.kept_sections(path)
    assert kept["orders"] == [{"seed": 0}] and kept["events"] == []
    assert kept["measured"]["orders"] == {"command": "old", "date": "2026-01-01"} and "events" not in kept["measured"]
