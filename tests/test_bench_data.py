"""The data benchmark passes `--train-args` to every `seqgan train` it starts (what the README's
tables say was run)."""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_data  # noqa: E402


def test_train_args_reach_the_train_command(monkeypatch, tmp_path):
    seen = []

    def fake_seqgan(*args, cwd=None, timeout=None):
        seen.append([str(a) for a in args])
        folder = Path(args[args.index("--out") + 1])
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(
            {"steps": 5, "stop_reason": "early_stopping", "verdict": {"line": "learned", "learned": True}}))
        return SimpleNamespace(returncode=0, wall_s=1.0, stderr="")

    monkeypatch.setattr(bench_data, "seqgan", fake_seqgan)
    row = bench_data.train(tmp_path / "run", "--data", "f.txt", more="--set adversarial=true --threads 1")
    assert seen[0][:3] == ["train", "--data", "f.txt"]
    assert seen[0][3:7] == ["--set", "adversarial=true", "--threads", "1"] and row["steps"] == 5
    bench_data.train(tmp_path / "plain", "--data", "f.txt")
    assert "--set" not in seen[1]
