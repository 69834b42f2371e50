import runpy
import sys
from pathlib import Path

import torch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_walkthrough_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["walkthrough.py", "--max-steps", "200", "--out", str(tmp_path)])
    module = runpy.run_path(str(EXAMPLES / "walkthrough.py"))
    numbers = module["main"]()
    out = capsys.readouterr().out
    assert "one-hot of 35 has its 1 at 35 -> [35]" in out
    assert numbers.shape == (5, 10) and numbers.dtype == torch.int64
    assert (tmp_path / "generator.pt").exists()
