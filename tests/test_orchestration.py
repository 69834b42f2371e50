"""One orchestration, one vocabulary: `seqgan train` and SeqGAN.fit train through session.train;
advice is data, rendered as flags or keywords; flag help comes from the dataclasses; --help needs no torch."""

import os
import subprocess
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

import pytest

from seqgan_core.advice import FLAG_SETTINGS, Advice, as_flags, as_keywords, either, one
from seqgan_core.engine.config import TrainConfig, setting_help
from seqgan_core.errors import SeqganError
from seqgan_core.options import fields_in_file

ROOT = Path(__file__).resolve().parent.parent


# --- advice ---------------------------------------------------------------------------------------

def test_advice_renders_as_flags_for_the_cli_and_keywords_for_the_api():
    longer = one(Advice("max_steps", 8000), Advice("patience", 8))
    assert as_flags(longer) == "--max-steps 8000 --patience 8"
    assert as_keywords(longer) == "max_steps=8000, patience=8"
    other = one(Advice("stop_on", "heldout_nll"), Advice("adversarial", True))
    assert as_flags(other) == "--set stop_on=heldout_nll --set adversarial=true"
    assert as_keywords(other) == "stop_on='heldout_nll', adversarial=True"
    start = either(Advice("seed", how="another"), Advice("lr", how="a lower"))
    assert as_flags(start) == "another --seed, or a lower --lr"
    assert as_keywords(start) == "another seed, or a lower lr"
    model = either(Advice("", why="more data"), Advice("generator.hidden", 64, "a smaller generator"))
    assert as_flags(model) == "more data, or --set generator.hidden=64 (a smaller generator)"
    assert as_keywords(model) == "more data, or **{'generator.hidden': 64} (a smaller generator)"


def _judge(**kw):
    from seqgan_core.evaluation.verdict import judge

    metrics = {"validity": 0.43, "real_validity": 1.0, "unique_ratio": 0.99, "real_unique_ratio": 1.0, "tv": 0.01,
               "real_tv": 0.005}
    return judge(metrics, **{"steps": 4000, "max_steps": 4000, "stop_reason": "max_steps", "autoregressive": True,
                             "patience": 8, **kw})


def test_the_verdict_holds_settings_and_the_api_reads_them_as_keywords():
    verdict = _judge()
    assert verdict.tries == ((Advice("max_steps", 8000), Advice("patience", 8)),)
    assert verdict.line.endswith("try --max-steps 8000 --patience 8")
    python = verdict.for_python()
    assert python.line.endswith("try max_steps=8000, patience=8") and "--" not in python.line
    saved = verdict.to_dict()  # config.json keeps the settings, and the CLI's line
    assert saved["tries"] == [[{"setting": "max_steps", "value": 8000, "why": "", "how": ""},
                               {"setting": "patience", "value": 8, "why": "", "how": ""}]]
    assert saved["advice"] == "--max-steps 8000 --patience 8"


def test_no_advice_in_the_package_is_flag_text():
    """Advice is built from Advice(...) values; a `try --flag` string in the library would reach
    notebook users as a command-line flag."""
    offenders = []
    for path in (ROOT / "seqgan_core").rglob("*.py"):
        if path.name in ("cli.py", "advice.py"):  # the renderer of flags, and what it renders
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if any(s in code for s in ('"try --', "'try --", "try a lower --", "another --seed")):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


# --- help from one source -------------------------------------------------------------------------

def _train_help() -> dict[str, str]:
    from seqgan_core.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["train"]
    return {a.dest: a.help for a in sub._actions}


def test_every_train_flag_has_its_help_from_the_dataclass_comment():
    helps = _train_help()
    run = {f.name for f in fields(TrainConfig)}
    comments = fields_in_file(ROOT / "seqgan_core" / "engine" / "config.py", "TrainConfig")
    for name in FLAG_SETTINGS:
        setting = setting_help(name)
        assert setting.help, f"{name} has no comment beside its default"
        assert helps[name].startswith(setting.help.replace("%", "%%")), name
        if name in run:  # a run setting's help is the comment on its TrainConfig line, word for word
            assert setting.help == comments[name][1] and not setting.recipe


def test_flag_help_follows_a_changed_comment(tmp_path, monkeypatch):
    """The help is read from the source: a new comment is the new help (the test can fail)."""
    from seqgan_core.engine import config

    source = (ROOT / "seqgan_core" / "engine" / "config.py").read_text()
    changed = tmp_path / "config.py"
    changed.write_text(source.replace("# checks without a significant improvement", "# CHANGED checks without"))
    monkeypatch.setattr(config, "__file__", str(changed))
    assert setting_help("patience").help.startswith("CHANGED checks without")


def test_an_unknown_setting_has_no_help():
    with pytest.raises(SeqganError, match="'nope' is neither a run setting nor an option"):
        setting_help("nope")


# --- no torch for --help --------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["--version"], ["train"], ["bogus"],
                                  ["train", "--rule", "x", "--seed", "y"]])
def test_help_version_and_usage_errors_do_not_import_torch(argv):
    code = ("import sys\nfrom seqgan_core.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.stderr.strip().splitlines()[-1] == "NO-TORCH", done.stderr


def test_the_package_still_offers_rule_and_hookimpl():
    import seqgan_core

    assert seqgan_core.Rule.__name__ == "Rule" and seqgan_core.hookimpl is not None
    with pytest.raises(AttributeError):
        seqgan_core.nothing_here  # noqa: B018


# --- one orchestration ----------------------------------------------------------------------------

class _Called(Exception):
    pass


def test_cli_and_api_train_through_the_same_function(monkeypatch, tmp_path):
    from seqgan_core import SeqGAN, cli, session

    calls = []

    def fake(target, config, out, **kw):
        calls.append((target.rule.name, config.max_steps, kw.get("render")))
        raise _Called

    monkeypatch.setattr(session, "train", fake)
    with pytest.raises(_Called):
        SeqGAN(max_steps=7).fit("multiples5")
    monkeypatch.chdir(tmp_path)
    try:  # the CLI's boundary turns any exception into one line and an exit status
        cli.main(["train", "--rule", "multiples5", "--max-steps", "9", "--out", str(tmp_path / "run")])
    except (_Called, SystemExit):
        pass
    assert [c[:2] for c in calls] == [("multiples5", 7), ("multiples5", 9)]
    assert calls[0][2] is as_keywords and calls[1][2] in (None, as_flags)


def test_neither_caller_sets_up_threads_reporter_or_governor_itself():
    for name in ("cli.py", "api.py"):
        text = (ROOT / "seqgan_core" / name).read_text()
        for setup in ("configure_threads(", "governor_for(", "ProgressReporter(", "train_run(", "signal.signal("):
            assert setup not in text, f"{name} calls {setup}: that is session.train's job"


# --- SeqGAN's arguments ---------------------------------------------------------------------------

def test_an_unknown_argument_is_one_line_naming_the_valid_ones():
    from seqgan_core import SeqGAN

    with pytest.raises(SeqganError) as caught:
        SeqGAN(max_step=10)
    message = str(caught.value)
    assert "\n" not in message and "'max_step'" in message and "max_steps" in message and "patience" in message
    SeqGAN(eval_every=10, loss="hinge", **{"generator.hidden": 32})  # run settings, recipe and model options


def test_documented_arguments_are_in_the_docstring():
    import inspect

    from seqgan_core import SeqGAN

    doc = SeqGAN.__doc__
    for name in inspect.signature(SeqGAN.__init__).parameters:
        if name not in ("self", "options"):
            assert f"``{name}``" in doc, f"SeqGAN's docstring does not document {name}"


def test_fit_leaves_nothing_in_the_temporary_folder(monkeypatch, tmp_path):
    from seqgan_core import SeqGAN

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    gan = SeqGAN(seed=0, max_steps=20, eval_every=10).fit("multiples5")
    assert list(scratch.iterdir()) == []  # the run is kept in memory
    rows = gan.sample(3, seed=1)
    folder = gan.save(tmp_path / "kept")
    assert (folder / "generator.pt").exists() and (folder / "config.json").exists()
    assert SeqGAN.load(folder).sample(3, seed=1) == rows
    assert "--" not in gan.verdict.line  # the API's advice is keywords
    named = SeqGAN(seed=0, max_steps=20, eval_every=10, out=tmp_path / "named").fit("multiples5")
    assert (tmp_path / "named" / "generator.pt").exists() and named.outcome.out == tmp_path / "named"
    assert list(scratch.iterdir()) == []
