"""examples/seqgan-extras, pip-installed: its generator, recipe and preset are found through the
entry point and train from the command line and from the Python API."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import FINISHED

EXTRAS = Path(__file__).resolve().parent.parent / "examples" / "seqgan-extras"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The package installed into a folder of its own (on PYTHONPATH in the subprocesses only, so
    this process's registries never see it; nothing to uninstall)."""
    target = tmp_path_factory.mktemp("extras") / "installed"
    # built from a copy: an in-tree build leaves an egg-info whose entry point every later test's
    # process would find once pytest puts the example's folder on sys.path
    source = shutil.copytree(EXTRAS, target.parent / "source", ignore=shutil.ignore_patterns("build", "*.egg-info"))
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert pip.returncode == 0, pip.stderr
    return {"PYTHONPATH": str(target)}


def test_plugins_lists_what_the_package_provides(installed, run_cli):
    out = run_cli("plugins", env=installed)
    assert out.returncode == 0, out.stderr
    extras = next(p for p in json.loads(out.stdout) if p["name"] == "extras")
    assert extras["version"] == "0.1.0"
    assert extras["provides"] == {"generators": ["extras-lstm"], "recipes": ["reinforce"], "presets": ["reinforce-lstm"]}
    builtins = next(p for p in json.loads(out.stdout) if p["name"] == "seqgan_core.engine.builtins")
    assert "gru" in builtins["provides"]["generators"] and "sequence" in builtins["provides"]["recipes"]


def test_the_preset_trains_from_the_command_line(installed, run_cli, tmp_path):
    out = run_cli("train", "--rule", "multiples5", "--preset", "reinforce-lstm", "--max-steps", "200",
                  "--out", "rl", env=installed, timeout=600)
    assert out.returncode in FINISHED, out.stderr
    phases = {row["phase"] for row in map(json.loads, (tmp_path / "rl" / "history.jsonl").read_text().splitlines())}
    assert phases == {"mle", "policy_gradient"}
    sample = run_cli("sample", "rl", "-n", "3", env=installed)  # the run folder: its weights-only file
    assert sample.returncode == 0 and len(sample.stdout.splitlines()) == 3, sample.stderr


def test_the_preset_trains_from_the_api(installed, tmp_path):
    script = textwrap.dedent("""
        from seqgan_core import SeqGAN
        gan = SeqGAN(preset="reinforce-lstm", max_steps=120, pretrain_steps=60).fit("multiples5")
        print(gan.outcome.result.config.recipe, gan.outcome.result.steps, len(gan.sample(4)))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, **installed}, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-3:] == ["reinforce", "120", "4"], out.stdout
