"""Small helpers shared by several test modules."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path


def rewrite_metadata(src: Path, dst: Path, **changes) -> Path:
    """Copy a model file, changing fields of its embedded seqgan.json (e.g. format_version)."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename.endswith("extra/seqgan.json"):
                meta = json.loads(data)
                for key, value in changes.items():
                    if key == "rule":
                        meta["target"]["rule"] = value
                    meta[key] = value
                data = json.dumps(meta).encode()
            new.writestr(item, data)
    return dst


def plain_torch(load: str, path: Path, n: int, seed: int, cwd: Path) -> list:
    """Sample ``n`` sequences in a fresh Python that never imports seqgan; ``load`` is an
    expression of ``path`` giving the callable sampler."""
    code = (
        "import sys, json, torch\n"
        "path = sys.argv[1]\n"
        f"m = {load}\n"
        f"torch.manual_seed({seed})\n"
        f"x = m({n})\n"
        "assert 'seqgan_core' not in sys.modules and x.dtype == torch.int64\n"
        "print(json.dumps(x.tolist()))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         cwd=cwd, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def small_recipe(recipe_cls, rule, small_d: dict, **options):
    """A ``recipe_cls`` on ``rule`` on the CPU, its discriminator options ``small_d``, the rest of
    its options ``options`` (checked as the CLI checks them), torch seeded 0 before it is built."""
    import torch

    from seqgan_core.options import build
    from seqgan_core.runtime.runtime import Runtime

    torch.manual_seed(0)
    opts = build(recipe_cls.Options, {"discriminator_options": small_d, **options}, "test")
    return recipe_cls(rule, opts, Runtime(torch.device("cpu")))


def real_sampler(rule, seed: int = 1):
    """``real(n)``: ``n`` of the rule's own sequences ``(n, L)``, from a generator seeded ``seed``."""
    import torch

    g = torch.Generator().manual_seed(seed)
    return lambda n: rule.sample_checked(n, g)
