import os
import subprocess
import sys

import pytest
import torch
from hypothesis import HealthCheck, settings

# Tests that train in-process get what `seqgan train` chooses for these small models: one thread.
# torch's default (one per core) made the suite 4x slower, and 40x on a machine with busy cores.
torch.set_num_threads(1)

# `ci` (the default): derandomized and quick, so CI is repeatable. `thorough`: many more examples,
# for a local run: HYPOTHESIS_PROFILE=thorough pytest
settings.register_profile(
    "ci", derandomize=True, max_examples=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# `seqgan train` exit statuses of a run that finished and saved its model: 0 when the verdict is
# "learned", 3 when it is not (short test runs rarely learn their rule)
FINISHED = (0, 3)


@pytest.fixture
def run_cli(tmp_path):
    """Run ``python -m seqgan_core ARGS`` in a subprocess (cwd = tmp_path); returns CompletedProcess."""

    def run(*args, env=None, cwd=None, timeout=300):
        return subprocess.run(
            [sys.executable, "-m", "seqgan_core", *map(str, args)],
            capture_output=True, text=True, cwd=cwd or tmp_path, timeout=timeout,
            env={**os.environ, **(env or {})},
        )

    return run


@pytest.fixture
def main_in_process(tmp_path, monkeypatch, capsys):
    """Run the CLI's ``main(ARGS)`` in this process (cwd = tmp_path unless given; ``path`` is put on
    sys.path as PYTHONPATH would be); returns (exit status, stdout, stderr).

    Saves the ~2 s torch import of a whole process, for the many cases whose subject is one line
    of output. An unexpected exception surfaces here, failing the test, as a traceback would.
    """
    import warnings

    from seqgan_core.cli import main

    def run(*args, cwd=None, path=None):
        monkeypatch.chdir(cwd or tmp_path)
        if path is not None:
            monkeypatch.syspath_prepend(str(path))
        monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main() installs its own
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:  # argparse's usage errors
            code = e.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
