"""The rule suite: (rule name, family) for every rule seqgan's defaults are measured on.

Most families hold two or three rules, so a default tuned on one rule is checked on a sibling it
was not written for. Built-in rules come from ``seqgan_plugins``; the rest from ``suite_rules.py`` in this
folder (``-p suite_rules`` with ``benchmarks`` on ``PYTHONPATH``). Families, in order:

- independent: every position drawn on its own; per-position frequencies are the whole rule;
- local: each token depends on its neighbours;
- symmetry: each token depends on one far away (mirror image or repeat);
- arithmetic: a relation over the whole sequence (a progression, a check digit, a fixed total);
- all-different: no token twice;
- counting: one token an exact number of times, anywhere;
- grammar: a context-free language, fixed-length or with an end token;
- long: 64 tokens, where one slip in 63 steps makes a sequence invalid;
- large-vocabulary: 1000 tokens with a dependency (``fewvalues`` has 1000 independent ones).

``OWN_BENCHMARK`` lists the rules left out because a section of their own measures them against a
published table (the SeqGAN oracle: 5 000 tokens, minutes per run) or against their twin (checkdigit
with and without its constraint hook).
"""

OWN_BENCHMARK: dict[str, str] = {"oracle": "benchmark.py oracle", "seqgan-oracle": "benchmark.py frontier",
                                 "checkdigit": "bench_tables.py",
                                 "checkdigit-free": "bench_tables.py"}

SUITE: list[tuple[str, str]] = [
    ("multiples5", "independent"),
    ("fewvalues", "independent"),
    ("banded", "independent"),
    ("skewed", "independent"),
    ("odd", "independent"),
    ("ascending", "local"),
    ("steps", "local"),
    ("palindrome", "symmetry"),
    ("copy", "symmetry"),
    ("arithmetic", "arithmetic"),
    ("checksum", "arithmetic"),
    ("sum", "arithmetic"),
    ("permutation", "all-different"),
    ("distinct", "all-different"),
    ("count", "counting"),
    ("brackets", "grammar"),
    ("expression", "grammar"),
    ("walk64", "long"),
    ("pairs", "large-vocabulary"),
]
