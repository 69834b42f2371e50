"""The README stays a short guide, the docs site builds, and the benchmark pages match their data."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# a short commit hash in prose: "abc1234 " or "at abc1234"; measurements and history belong in
# results files and CHANGELOG.md, where a reader can tell data from explanation
HASH = re.compile(r"[0-9a-f]{7} |at [0-9a-f]{7}")
TEST_COMMAND_MARKER = "<!-- test-command: .ci/run runs the line below, exactly -->"


def _doc_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _nav_pages(nav) -> list[str]:
    pages = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def _mkdocs_config() -> dict:
    yaml = pytest.importorskip("yaml")

    class Loader(yaml.SafeLoader):  # mkdocs.yml may hold !!python tags; the nav needs none of them
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    return yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=Loader)


def test_readme_is_short():
    assert len(README.read_text().splitlines()) <= 300


def test_readme_keeps_the_ci_test_command():
    lines = README.read_text().splitlines()
    i = lines.index(TEST_COMMAND_MARKER)
    assert lines[i + 1] == "```bash"
    assert lines[i + 2].endswith("python -m pytest -n auto")


@pytest.mark.parametrize("path", [README, *_doc_pages()], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_commit_hashes_in_prose(path):
    bad = [f"{i}: {line}" for i, line in enumerate(path.read_text().splitlines(), 1) if HASH.search(line)]
    assert not bad, "commit hashes belong in git, not in the docs:\n" + "\n".join(bad)


def test_every_nav_page_exists():
    missing = [p for p in _nav_pages(_mkdocs_config()["nav"]) if not (DOCS / p).is_file()]
    assert not missing


def test_rendered_benchmark_pages_are_up_to_date():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "render.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_results_files_have_the_fields_pages_are_rendered_from():
    import json

    for path in (ROOT / "benchmarks" / "results").glob("*.json"):
        record = json.loads(path.read_text())
        assert {"command", "machine", "date", "figures"} <= record.keys(), path
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["date"]), path


def test_write_results_is_atomic_and_complete(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import common
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    import json

    path = common.write_results("demo", "python benchmarks/benchmark.py demo", [{"a": 1}], directory=tmp_path)
    record = json.loads(path.read_text())
    assert record["figures"] == [{"a": 1}] and record["command"].endswith("demo")
    assert {"cpu_count", "platform", "torch"} <= record["machine"].keys()
    assert [p.name for p in tmp_path.iterdir()] == ["demo.json"]  # no temporary file left


def test_cli_reference_renders_every_subcommand():
    sys.path.insert(0, str(DOCS))
    try:
        import hooks
    finally:
        sys.path.remove(str(DOCS))
    text = hooks.cli_reference()
    for command in ("train", "sample", "evaluate", "rules", "plugins", "plot"):
        assert f"## seqgan {command}" in text


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs not installed (pip install '.[docs]')")
def test_mkdocs_build_strict(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
