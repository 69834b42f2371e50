"""MkDocs hooks: pages that are generated at build time, so they cannot drift from the code.

- ``cli.md``: every subcommand's ``--help``, from the argparse parser the ``seqgan`` command uses;
- ``changelog.md``: CHANGELOG.md itself, not a copy.
"""

from __future__ import annotations

import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI_MARKER = "<!-- cli-reference -->"
CHANGELOG_MARKER = "<!-- changelog -->"
# seqgan_core.cli may become a package while modules move into subpackages; try both layouts.
PARSER_MODULES = ("seqgan_core.cli", "seqgan_core.cli.main")


def build_parser():
    tried = []
    for name in PARSER_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError as e:
            tried.append(f"{name} ({e})")
            continue
        if hasattr(module, "build_parser"):
            return module.build_parser()
        tried.append(f"{name} (no build_parser)")
    raise RuntimeError("docs/hooks.py: cannot find the seqgan argparse parser to render the CLI reference; "
                       "looked for build_parser() in " + "; ".join(tried) +
                       ". Update PARSER_MODULES in docs/hooks.py to where the parser is built now.")


def _subparsers(parser):
    for action in parser._actions:  # argparse keeps subcommands only here
        if hasattr(action, "choices") and isinstance(action.choices, dict):
            return action.choices
    return {}


def cli_reference() -> str:
    parser = build_parser()
    out = ["## seqgan", "", "```text", parser.format_help().rstrip(), "```", ""]
    for name, sub in _subparsers(parser).items():
        out += [f"## seqgan {name}", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(out)


def on_page_markdown(markdown, page, config, files):
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if CHANGELOG_MARKER in markdown:
        text = (ROOT / "CHANGELOG.md").read_text()
        # the page has its own title; drop the file's
        body = text.split("\n", 1)[1] if text.startswith("# ") else text
        markdown = markdown.replace(CHANGELOG_MARKER, body.strip() + "\n")
    return markdown
