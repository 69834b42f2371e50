"""Nothing lost: checkpoints resume bit-for-bit, Ctrl-C keeps the run, divergence keeps the best."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import FINISHED

from seqgan_core import cli
from seqgan_core.engine.config import TrainConfig
from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.engine.presets import PRESETS, Preset, preset_config
from seqgan_core.engine.recipes import RECIPES
from seqgan_core.engine.recipes.article import ArticleGAN
from seqgan_core.engine.training import Trainer, train

RULES = load_rules(get_plugin_manager(entry_points=False))


def _stop_at(step):
    def callback(p):
        if p.step == step:
            p.trainer.stop_requested = True

    return callback


@pytest.mark.parametrize("rule, preset, extra", [
    ("multiples5", "article", {}),
    ("multiples5", "independent", {}),
    # the GAN (--set adversarial=true): cut in D warm-up, then in MLE with adversarial steps after
    ("palindrome", "autoregressive", {"pretrain_steps": 80, "d_warmup": 20, "batch_size": 32, "adversarial": True}),
    ("palindrome", "autoregressive", {"pretrain_steps": 150, "d_warmup": 0, "batch_size": 32, "adversarial": True}),
])
def test_resumed_run_equals_uninterrupted_run(tmp_path, rule, preset, extra):
    config = preset_config(preset, seed=5, max_steps=240, patience=10_000, eval_every=20, **extra)
    whole = train(RULES[rule], config)

    first = Trainer(RULES[rule], config, callbacks=[_stop_at(100)])
    assert first.run().stop_reason == "interrupted" and first.step == 100
    torch.save(first.state_dict(), tmp_path / "checkpoint.pt")
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)  # no pickled code runs

    second = Trainer(RULES[rule], TrainConfig.from_dict(state["config"]))
    second.load_state_dict(state)
    resumed = second.run()
    assert resumed.steps == whole.steps == 240
    assert [h["distance"] for h in resumed.history] == [h["distance"] for h in whole.history]
    for (name, a), b in zip(whole.generator.state_dict().items(), resumed.generator.state_dict().values()):
        assert torch.equal(a, b), name


class _DivergingGAN(ArticleGAN):
    def step(self, real, step):
        losses, generated = super().step(real, step)
        if step >= 30:
            with torch.no_grad():
                self.generator.linear.weight.fill_(float("nan"))
            losses["g"] = float("nan")
        return losses, generated


@pytest.fixture
def diverging(monkeypatch):
    monkeypatch.setitem(RECIPES, "diverging", _DivergingGAN)
    monkeypatch.setitem(PRESETS, "diverging", Preset("diverging", "", run=dict(recipe="diverging", max_steps=100,
                                                                                 eval_every=1, eval_samples=0,
                                                                                 distance="rule"), options={}))


def test_divergence_stops_and_keeps_the_best_generator(diverging):
    result = train(RULES["multiples5"], preset_config("diverging"))
    assert result.stop_reason == "diverged" and result.steps == 30
    assert result.message == "loss g became nan at step 30"
    assert all(torch.isfinite(p).all() for p in result.generator.parameters())


def test_divergence_on_the_command_line(diverging, tmp_path, capsys):
    code = cli.main(["train", "--rule", "multiples5", "--preset", "diverging", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-1].startswith("seqgan: error: training diverged: loss g became nan at step 30;")
    assert err[-1].endswith("try a lower --lr")
    assert (tmp_path / "r" / "generator.pt").exists()


def _cli(*args, **kw):
    return [sys.executable, "-m", "seqgan_core", *map(str, args)]


# Whole processes on a machine that may be busy with other jobs: the timeouts only catch a hang,
# they are not a speed test; one thread per process, so two tests never fight over the cores.
PATIENT = 1800  # seconds
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}


def test_ctrl_c_saves_and_resume_finishes_like_an_uninterrupted_run(tmp_path):
    # 600 steps are enough: the cut comes after the first checkpoint (step 100), well before the end
    # (the GAN preset: the default's 600 steps take 0.2 s, over before a signal can cut them)
    flags = ["--rule", "multiples5", "--preset", "pacgan", "--seed", "2", "--max-steps", "600", "--patience", "5000",
             "--checkpoint-every", "100", "--threads", "1"]
    proc = subprocess.Popen(_cli("train", *flags, "--out", "cut"), cwd=tmp_path, env=ONE_THREAD,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + PATIENT
    while not (tmp_path / "cut" / "checkpoint.pt").exists():
        assert proc.poll() is None and time.time() < deadline, "training ended before the checkpoint"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=PATIENT)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "continue with: seqgan train --resume cut" in err.strip().splitlines()[-1]
    assert (tmp_path / "cut" / "generator.pt").exists()

    again = subprocess.run(_cli("train", "--resume", "cut", "--threads", "1"), cwd=tmp_path, capture_output=True,
                           text=True, timeout=PATIENT, env=ONE_THREAD)
    assert again.returncode in FINISHED, again.stderr
    assert "resuming at step" in again.stderr
    whole = subprocess.run(_cli("train", *flags, "--out", "whole"), cwd=tmp_path, capture_output=True,
                           text=True, timeout=PATIENT, env=ONE_THREAD)
    assert whole.returncode in FINISHED, whole.stderr

    def weights(run):
        return torch.jit.load(str(tmp_path / run / "generator.pt")).state_dict()

    a, b = weights("cut"), weights("whole")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_train_refuses_to_overwrite_a_run(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "config.json").write_text("{}")
    out = subprocess.run(_cli("train", "--rule", "multiples5", "--out", "r"), cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    # no checkpoint: nothing to resume, so the message does not send the user to --resume
    assert "already holds a run (config.json) that cannot be resumed; pick another --out" in out.stderr


def test_resume_keeps_the_export_format(run_cli, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "seqgan_core", "train", "--rule", "multiples5", "--format",
                             "export", "--max-steps", "100000", "--set", "pretrain_steps=100000", "--patience", "100000",
                             "--checkpoint-every", "50", "--out", "r"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path / "r" / "checkpoint.pt").exists():
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    step = torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=True)["step"]
    resumed = run_cli("train", "--resume", "r", "--max-steps", step + 20)
    assert resumed.returncode in FINISHED, resumed.stderr
    assert not (tmp_path / "r" / "generator.pt").exists()
    assert json.loads((tmp_path / "r" / "config.json").read_text())["format"] == "export"


def test_resume_max_steps_is_the_total_and_too_few_is_refused_without_finishing(tmp_path, capsys):
    """`--resume RUN --max-steps N`: N is the new total. N at or below the step reached used to end
    the run as finished for good; now it is one line, and the run can still be resumed."""
    from seqgan_core.io.run import load_checkpoint, train_run
    from seqgan_core.rules.target import rule_target
    from seqgan_core.engine.training import StopRequest

    stop = StopRequest()
    config = preset_config("independent", seed=1, max_steps=3000, patience=10_000)

    def stop_at_20(p):
        stop.requested = stop.requested or p.step == 20

    run = tmp_path / "r"
    train_run(rule_target(RULES["multiples5"]), config, run, callbacks=[stop_at_20], stop=stop)
    assert load_checkpoint(run)["stop_reason"] == "interrupted"
    capsys.readouterr()
    for too_few in ("20", "5"):
        assert cli.main(["train", "--resume", str(run), "--max-steps", too_few]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"seqgan: error: --max-steps is the total number of steps; the run in {str(run)!r} is at "
                       "step 20, so give more than 20 (or leave it out to keep 3000)"]
        assert load_checkpoint(run)["step"] == 20  # still resumable: refused, not finished
    assert cli.main(["train", "--resume", str(run), "--max-steps", "40"]) in FINISHED
    assert json.loads((run / "config.json").read_text())["steps"] == 40  # the total, not 20 more


def test_help_documents_max_steps_on_resume_and_lists_the_presets(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "with --resume: the new total, above the step reached" in text
    assert all(f"{name}:" in text for name in PRESETS)
