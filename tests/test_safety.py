"""Nothing lost, nothing mixed: the end of a run, full disks, two runs in one folder, resuming on
other data, hostile files. Catalogue style: the real CLI in a subprocess, one line, exit status,
and the files left behind."""

import errno
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest
import torch
from conftest import FINISHED

from seqgan_core import cli
from seqgan_core.runtime.atomic import WriteError
from seqgan_core.runtime.lock import LOCK_FILE, RunLock

SLOW = 600  # seconds: generous, the test machine may be busy with other jobs


def _popen(*args, cwd, env=None):
    return subprocess.Popen([sys.executable, "-m", "seqgan_core", *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})


def _errors(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("seqgan: error:")]


def _wait_for(path, proc, seconds=SLOW):
    deadline = time.time() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def _checkpoint(run):
    return torch.load(run / "checkpoint.pt", weights_only=True)


def _model_meta(path):
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.endswith("extra/seqgan.json"))
        return json.loads(z.read(name))


# -- 1. the end of a run


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_the_run_saves_waits_for_the_saving(tmp_path, sig):
    """The test hook holds the run between its generator and its final checkpoint; a signal sent
    there is answered only once every file is written."""
    proc = _popen("train", "--rule", "multiples5", "--max-steps", "30", "--out", "r", cwd=tmp_path,
                  env={"SEQGAN_TEST_FINISH_PAUSE": "2"})
    _wait_for(tmp_path / "r" / "generator.pt", proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=SLOW)
    assert proc.returncode in FINISHED, err
    assert not _errors(err)
    state = _checkpoint(tmp_path / "r")
    assert state["stop_reason"] == "max_steps" and state["step"] == 30
    assert json.loads((tmp_path / "r" / "config.json").read_text())["steps"] == 30
    assert _model_meta(tmp_path / "r" / "generator.pt")["steps"] == 30


def _no_space(path, data):
    raise WriteError(path, len(data), OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))


def test_a_generator_that_does_not_fit_is_written_by_resume(tmp_path, monkeypatch, capsys):
    out = tmp_path / "r"
    monkeypatch.setattr("seqgan_core.io.export.write_bytes", _no_space)
    code = cli.main(["train", "--rule", "multiples5", "--max-steps", "30", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    [line] = _errors(err)
    assert f"cannot write {out / 'generator.pt'}: No space left on device (it needed " in line
    assert f"then run `seqgan train --resume {out}` to write the model without training again" in line
    assert not (out / "generator.pt").exists()
    assert _checkpoint(out)["pending"] == "max_steps"

    monkeypatch.undo()  # space freed
    code = cli.main(["train", "--resume", str(out)])
    err = capsys.readouterr().err
    assert code in FINISHED, err
    assert "resuming at step 30" in err and "stopped after 30 steps" in err
    assert _checkpoint(out)["stop_reason"] == "max_steps"
    assert _model_meta(out / "generator.pt")["steps"] == 30


@pytest.fixture
def small_disk(tmp_path):
    """A 420 KiB tmpfs: room for one checkpoint of multiples5 and its generator, not for two."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=420k", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_a_full_disk_keeps_the_generator_and_a_resumable_checkpoint(tmp_path, small_disk):
    proc = _popen("train", "--rule", "multiples5", "--preset", "pacgan", "--max-steps", "60",
                  "--checkpoint-every", "20", "--out", small_disk / "r", cwd=tmp_path)
    _, err = proc.communicate(timeout=SLOW)
    assert proc.returncode == 2, err
    [line] = _errors(err)
    assert f"cannot write {small_disk / 'r' / 'checkpoint.pt'}: No space left on device (it needed " in line
    assert "bytes free there); the generator and config.json are saved" in line
    left = sorted(p.name for p in (small_disk / "r").iterdir())
    assert left == ["checkpoint.pt", "config.json", "generator.pt", "generator.weights.pt", "history.jsonl",
                    "metrics.jsonl"]
    assert _checkpoint(small_disk / "r")["step"] == 20  # the last one that fitted
    assert _model_meta(small_disk / "r" / "generator.pt")["steps"] == 60
    again = subprocess.run([sys.executable, "-m", "seqgan_core", "train", "--resume", small_disk / "r"],
                           capture_output=True, text=True, timeout=SLOW)
    assert "resuming at step 20" in again.stderr and "Traceback" not in again.stderr


def test_a_run_killed_before_its_first_checkpoint_can_be_trained_again(tmp_path):
    proc = _popen("train", "--rule", "multiples5", "--preset", "independent", "--max-steps", "100000",
                  "--patience", "100000", "--checkpoint-every", "100000", "--out", "r", cwd=tmp_path)
    _wait_for(tmp_path / "r" / "metrics.jsonl", proc)
    proc.kill()
    proc.communicate(timeout=SLOW)
    (tmp_path / "r" / ".checkpoint.pt.x1y2.tmp").write_bytes(b"half a checkpoint")  # as a kill mid-write leaves
    again = subprocess.run([sys.executable, "-m", "seqgan_core", "train", "--rule", "multiples5", "--max-steps",
                            "20", "--out", "r"], cwd=tmp_path, capture_output=True, text=True, timeout=SLOW)
    assert again.returncode in FINISHED, again.stderr
    left = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert left == ["checkpoint.pt", "config.json", "generator.pt", "generator.weights.pt", "history.jsonl",
                    "metrics.jsonl"]


def test_a_model_without_checkpoint_is_not_sent_to_resume(tmp_path, run_cli):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "generator.pt").write_bytes(b"a model")
    out = run_cli("train", "--rule", "multiples5", "--out", "r")
    [line] = _errors(out.stderr)
    assert out.returncode == 2
    assert line.endswith("already holds a run (generator.pt) that cannot be resumed; pick another --out")


# -- 2. one run per folder


def test_two_trainings_into_one_folder_never_mix(tmp_path):
    env = {"SEQGAN_TEST_FINISH_PAUSE": "3"}  # each holds the folder a few seconds at least
    procs = {seed: _popen("train", "--rule", "multiples5", "--seed", seed, "--max-steps", "40", "--out", "r",
                          cwd=tmp_path, env=env) for seed in (1, 2)}
    done = {seed: p.communicate(timeout=SLOW) for seed, p in procs.items()}
    codes = {seed: p.returncode for seed, p in procs.items()}
    winners = [s for s, c in codes.items() if c in FINISHED]
    assert len(winners) == 1, (codes, done)
    [winner], [loser] = winners, [s for s in codes if s not in winners]
    assert codes[loser] == 2
    [line] = _errors(done[loser][1])
    assert (f"'r' is in use by another seqgan run (pid {procs[winner].pid}); wait for it to finish" in line
            or "'r' already holds a run" in line), line
    run = tmp_path / "r"
    assert json.loads((run / "config.json").read_text())["seed"] == winner
    assert _checkpoint(run)["config"]["seed"] == winner
    assert _model_meta(run / "generator.pt")["config"]["seed"] == winner
    assert not (run / LOCK_FILE).exists()


def test_a_held_folder_names_its_owner_and_a_dead_owner_does_not_block(tmp_path, run_cli):
    with RunLock(tmp_path / "r"):
        out = run_cli("train", "--rule", "multiples5", "--max-steps", "10", "--out", "r")
    assert out.returncode == 2
    [line] = _errors(out.stderr)
    assert line == (f"seqgan: error: 'r' is in use by another seqgan run (pid {os.getpid()}); "
                    "wait for it to finish, or pick another --out")
    (tmp_path / "r" / LOCK_FILE).write_text("999999999\n")  # left by a process that died
    out = run_cli("train", "--rule", "multiples5", "--max-steps", "10", "--out", "r")
    assert out.returncode in FINISHED, out.stderr


# -- 3. resume checks what it resumes


def _unfinish(run, max_steps=None):
    """Make a finished run's checkpoint look interrupted, so --resume takes it."""
    state = _checkpoint(run)
    state["stop_reason"] = None
    torch.save(state, run / "checkpoint.pt")


@pytest.fixture(scope="module")
def data_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    (root / "names.txt").write_text("".join(f"a b c {t}\n" for t in "abcabcabcab"))
    done = subprocess.run([sys.executable, "-m", "seqgan_core", "train", "--data", "names.txt", "--max-steps", "20",
                           "--out", "r"], cwd=root, capture_output=True, text=True, timeout=SLOW)
    assert done.returncode in FINISHED, done.stderr
    _unfinish(root / "r")
    return root


@pytest.mark.parametrize("new_text, message", [
    ("".join(f"x y z {t}\n" for t in "xyzxyzxyzxy"), "is not the file this run was trained on"),  # y/abc/xyz/
    ("".join(f"a b c {t} a\n" for t in "abcabcabcab"), "is not the file this run was trained on"),  # longer lines
])
def test_resume_on_changed_data_is_one_line(data_run, tmp_path, new_text, message):
    changed = tmp_path / "names.txt"
    changed.write_text(new_text)
    out = subprocess.run([sys.executable, "-m", "seqgan_core", "train", "--resume", data_run / "r",
                          "--resume-data", changed, "--max-steps", "40"], capture_output=True, text=True,
                         timeout=SLOW)
    assert out.returncode == 2, out.stderr
    [line] = _errors(out.stderr)
    assert message in line and line.endswith("pass the original file with --resume-data FILE")


def test_resume_of_another_rules_checkpoint_is_one_line(tmp_path, run_cli):
    done = run_cli("train", "--rule", "palindrome", "--preset", "independent", "--max-steps", "10", "--out", "r")
    assert done.returncode in FINISHED, done.stderr
    state = _checkpoint(tmp_path / "r")
    state["stop_reason"] = None
    state["target"] = {"kind": "rule", "rule": "multiples5", "plugin": "seqgan_plugins.multiples5"}
    torch.save(state, tmp_path / "r" / "checkpoint.pt")
    out = run_cli("train", "--resume", "r", "--max-steps", "40")
    assert out.returncode == 2
    [line] = _errors(out.stderr)
    assert "rule 'multiples5' (plugin seqgan_plugins.multiples5) has another rule name than" in line


# -- 6. bounded inputs


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_data_must_be_a_regular_file(tmp_path, run_cli, kind):
    path = {"fifo": tmp_path / "pipe", "device": "/dev/zero", "directory": tmp_path / "d"}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    if kind == "directory":
        path.mkdir()
    out = run_cli("train", "--data", path, timeout=120)  # a FIFO used to block here for ever
    assert out.returncode == 2
    [line] = _errors(out.stderr)
    assert "is a directory" in line if kind == "directory" else "is not a regular file" in line
    assert not (tmp_path / "runs").exists()


# -- 4. model files are programs: metadata first, every output checked


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    done = subprocess.run([sys.executable, "-m", "seqgan_core", "train", "--rule", "multiples5", "--max-steps", "10",
                           "--out", "run"], cwd=root, capture_output=True, text=True, timeout=SLOW)
    assert done.returncode in FINISHED, done.stderr
    return root


CRAFTED = {  # what a crafted sampler returns for sample(n) -> the line seqgan answers with
    "scalar": ("torch.tensor(3)", "returned shape () when asked for"),
    "floats": ("torch.zeros(n, 10)", "returned dtype torch.float32, not int64 token indices"),
    "rank3": ("torch.zeros(n, 10, 1, dtype=torch.long)", "returned shape"),
    "few-rows": ("torch.zeros(1, 10, dtype=torch.long)", "returned shape (1, 10) when asked for"),
    "out-of-range": ("torch.full((n, 10), 1000, dtype=torch.long)", "returned indices outside its vocabulary"),
    "negative": ("torch.full((n, 10), -1, dtype=torch.long)", "returned indices outside its vocabulary"),
    # a forward that raises (torch.jit.Error, 38 lines of TorchScript traceback): one line
    "raises": ("torch.zeros(n, 10, dtype=torch.long).view(-1, 3)", "failed while sampling (RuntimeError: shape '[-1, 3]' is invalid"),
}


def _craft(path, body, meta):
    code = (
        "import torch\n"
        "class M(torch.nn.Module):\n"
        "    def forward(self, n: int, temperature: float = 1.0) -> torch.Tensor:\n"
        f"        return {body}\n"
    )
    module = path.with_suffix(".py")  # TorchScript compiles from source files, not from exec'd strings
    module.write_text(code)
    spec = importlib.util.spec_from_file_location(f"crafted_{path.stem.replace('-', '_')}", module)
    crafted = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(crafted)
    torch.jit.save(torch.jit.script(crafted.M()), str(path), _extra_files={"seqgan.json": json.dumps(meta)})


@pytest.mark.parametrize("command", ["sample", "evaluate"])
@pytest.mark.parametrize("kind", CRAFTED)
def test_a_model_output_is_checked_before_use(real_run, tmp_path, main_in_process, kind, command):
    body, message = CRAFTED[kind]
    path = tmp_path / f"{kind}.pt"
    _craft(path, body, _model_meta(real_run / "run" / "generator.pt"))
    code, out, err = main_in_process(command, path, "-n", "7", "--trust")
    assert code == 2, (out, err)
    [line] = _errors(err)
    assert f"the model '{path}' {message}" in line, line
    assert "sequences" not in out  # evaluate never reports on what the model claims


def test_metadata_is_checked_before_torch_loads_the_program(real_run, tmp_path, monkeypatch):
    from seqgan_core.errors import ModelFileError
    from seqgan_core.io.export import load_model

    def never(*a, **k):
        raise AssertionError("torch loaded a file seqgan should have refused first")

    foreign = tmp_path / "foreign.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(foreign))
    from helpers import rewrite_metadata

    newer = rewrite_metadata(real_run / "run" / "generator.pt", tmp_path / "newer.pt", format_version=99)
    huge = rewrite_metadata(real_run / "run" / "generator.pt", tmp_path / "huge.pt", length=10**9)
    monkeypatch.setattr(torch.jit, "load", never)
    for path, message in ((foreign, "without seqgan metadata"), (newer, "uses model format 99"),
                          (huge, "has damaged seqgan metadata")):
        with pytest.raises(ModelFileError, match=message):
            load_model(path)


def test_sample_streams_large_n(real_run):
    """Memory stays bounded by the chunk, not by -n: 300 000 sequences peak where 10 do (about 460 MiB
    here, most of it torch itself; 2 000 000 peak the same), where drawing 65 536 at a time and
    holding every row took 1.1 GiB."""
    code = ("import resource, subprocess, sys\n"
            "subprocess.run([sys.executable, '-m', 'seqgan_core', 'sample', sys.argv[1], '-n', '300000'],"
            " stdout=subprocess.DEVNULL, check=True)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", code, str(real_run / "run")], capture_output=True, text=True,
                         timeout=SLOW, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) < 700_000, f"peak {int(out.stdout) // 1024} MiB"  # KiB


# -- 5. plugins cannot crash or silence seqgan


PLUGIN = """
import sys, time, torch
from seqgan_core import Rule, hookimpl

def sample(n, g):
    return {sample}

def is_valid(s):
    return {valid}

def distance(s):
    return {distance}

@hookimpl
def register_rules(register):
    {register}
    register(Rule(name="hostile", description="", vocab=list(range(10)), length={length}, sample=sample,
                  is_valid=is_valid, distance=distance))
"""
GOOD = dict(sample="torch.randint(10, (n, 4), generator=g)", valid="torch.ones(len(s), dtype=torch.bool)",
            distance="0.5", register="pass", length="4")
HOSTILE = [
    ({"sample": "sys.exit(0)"}, "rule 'hostile' (plugin hostile): sample() raised SystemExit: 0"),
    ({"sample": "torch.zeros(n, 4, dtype=torch.long, device='meta')"},
     "rule 'hostile' (plugin hostile): sample() returned a tensor on meta; return CPU tensors"),
    ({"sample": "[[0] * 4] * n"}, "sample() returned list, expected a tensor"),
    ({"sample": "torch.zeros(n, 4)"}, "sample() returned dtype torch.float32, expected torch.long"),
    ({"sample": "1 / 0"}, "sample() raised ZeroDivisionError: division by zero"),
    ({"valid": "None"}, "is_valid() returned NoneType, expected a tensor"),
    ({"valid": "'yes'"}, "is_valid() returned str, expected a tensor"),
    ({"valid": "torch.ones(len(s))"}, "is_valid() returned dtype torch.float32, expected torch.bool"),
    ({"valid": "torch.ones(len(s), 2, dtype=torch.bool)"}, "is_valid() returned shape"),
    ({"distance": "'0.5'"}, "distance() returned str '0.5', expected a number"),
    ({"distance": "torch.ones(3)"}, "distance() returned Tensor"),
    ({"distance": "None"}, "distance() returned NoneType None, expected a number"),
    ({"distance": "sys.exit(3)"}, "distance() raised SystemExit: 3"),
    ({"register": "sys.exit(0)"}, "plugin 'hostile' failed in register_rules: SystemExit: 0"),
    ({"length": "10 ** 6"}, "length 1000000 x vocabulary 10 = 10,000,000 cells per sequence, more than seqgan can"),
    # BaseExceptions that are not Exceptions: caught at the plugin boundary like any other
    ({"sample": "(_ for _ in ()).throw(__import__('asyncio').CancelledError('stop'))"},
     "rule 'hostile' (plugin hostile): sample() raised CancelledError: stop"),
    ({"sample": "(_ for _ in ()).throw(GeneratorExit('closed'))"},
     "rule 'hostile' (plugin hostile): sample() raised GeneratorExit: closed"),
    ({"valid": "(_ for _ in ()).throw(__import__('asyncio').CancelledError())"}, "is_valid() raised CancelledError"),
]


@pytest.mark.parametrize("changes, message", HOSTILE, ids=[next(iter(c.values())) for c, _ in HOSTILE])
def test_a_hostile_rule_is_one_line_naming_it(tmp_path, main_in_process, monkeypatch, changes, message):
    (tmp_path / "hostile.py").write_text(PLUGIN.format(**{**GOOD, **changes}))
    monkeypatch.delitem(sys.modules, "hostile", raising=False)  # each case imports its own hostile.py
    code, _, err = main_in_process("train", "--rule", "hostile", "-p", "hostile", "--max-steps", "5", "--out", "r",
                                   path=tmp_path)
    assert code == 2, err
    [line] = _errors(err)
    assert message in line, line
    assert not (tmp_path / "r" / "generator.pt").exists()


def test_a_slow_plugin_is_named(tmp_path, run_cli):
    (tmp_path / "hostile.py").write_text(PLUGIN.format(**{**GOOD, "register": "time.sleep(3.5)"}))
    out = run_cli("rules", "-p", "hostile", env={"PYTHONPATH": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert "seqgan: warning: plugin 'hostile' took 3." in out.stderr
    assert "s to register its rules, and every seqgan command waits for it" in out.stderr


# -- 4b. the weights-only format: data, not a program


@pytest.mark.parametrize("preset", ["independent", "article", "autoregressive"])
def test_a_weights_file_samples_like_the_torchscript_file(tmp_path, run_cli, preset):
    for fmt in ("weights", "torchscript"):
        done = run_cli("train", "--rule", "palindrome", "--preset", preset, "--max-steps", "12", "--seed", "4",
                       "--format", fmt, "--out", fmt, env={"OMP_NUM_THREADS": "1"})
        assert done.returncode in FINISHED, done.stderr
    assert sorted(p.name for p in (tmp_path / "weights").glob("generator*")) == ["generator.weights.pt"]
    a = run_cli("sample", "weights", "-n", "50", "--seed", "5", "--json")
    b = run_cli("sample", "torchscript", "-n", "50", "--seed", "5", "--json")
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    assert json.loads(a.stdout) == json.loads(b.stdout)


class _RunsCode:
    def __reduce__(self):
        return (os.system, (f"touch {_RunsCode.marker}",))


def test_a_weights_file_with_pickled_code_is_refused_unrun(tmp_path, real_run):
    from seqgan_core.errors import ModelFileError
    from seqgan_core.io.export import WEIGHTS_KEY, load_model

    _RunsCode.marker = tmp_path / "ran"
    meta = json.dumps(_model_meta(real_run / "run" / "generator.pt"))
    path = tmp_path / "generator.weights.pt"
    torch.save({WEIGHTS_KEY: 1, "meta": meta, "state_dict": {"x": _RunsCode()}}, path)
    with pytest.raises(ModelFileError, match="holds more than tensors .* weights_only=True"):
        load_model(path)
    assert not _RunsCode.marker.exists()
    torch.save({WEIGHTS_KEY: 1, "meta": meta, "state_dict": {"generator.w": torch.zeros(3)}}, path)
    with pytest.raises(ModelFileError, match="its weights do not fit the generator its metadata describes"):
        load_model(path)


def test_a_nan_distance_late_in_training_keeps_the_best_generator(tmp_path, run_cli):
    # the rule's distance turns NaN at its 8th call: the check at step 200 (4 calls measure the noise)
    body = "float('nan') if next(CALLS) > 7 else 0.5"
    (tmp_path / "hostile.py").write_text("import itertools\nCALLS = itertools.count(1)\n"
                                         + PLUGIN.format(**{**GOOD, "distance": body}))
    out = run_cli("train", "--rule", "hostile", "-p", "hostile", "--preset", "independent", "--distance", "rule",
                  "--max-steps", "600", "--patience", "1000", "--out", "r",
                  env={"PYTHONPATH": str(tmp_path), "OMP_NUM_THREADS": "1"})
    assert out.returncode == 1, out.stderr
    [line] = _errors(out.stderr)
    assert line.startswith("seqgan: error: training diverged: rule 'hostile' (plugin hostile) returned distance nan "
                           "at step 200; kept the best generator so far (best distance 0.5000 at step 50"), line
    assert line.endswith("fix the rule's distance")
    assert _model_meta(tmp_path / "r" / "generator.pt")["stop_reason"] == "diverged"


def test_a_token_with_a_line_break_stays_on_its_line(real_run):
    from seqgan_core.io.export import load_model

    model = load_model(real_run / "run" / "generator.pt")
    assert model.as_line(["a\nb", "c\r\n", "d"]) == "a\\nb c\\r\\n d"
    assert model.as_line(["a", "b"]) == "a b"


def test_an_installed_plugin_that_exits_is_skipped_not_obeyed(tmp_path, run_cli):
    """An entry-point plugin calling sys.exit() used to end `train` with status 0 having done nothing."""
    for when in ("import", "register"):
        site = tmp_path / when
        (site / "exiter-1.0.dist-info").mkdir(parents=True)
        (site / "exiter-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: exiter\nVersion: 1.0\n")
        (site / "exiter-1.0.dist-info" / "entry_points.txt").write_text("[seqgan]\nexiter = exiter_plugin\n")
        (site / "exiter_plugin.py").write_text(
            "import sys\nfrom seqgan_core import hookimpl\n"
            + ("sys.exit(0)\n" if when == "import" else "@hookimpl\ndef register_rules(register):\n    sys.exit(0)\n"))
        out = run_cli("train", "--rule", "multiples5", "--max-steps", "5", "--out", when,
                      env={"PYTHONPATH": str(site), "SEQGAN_LOAD_PLUGINS": "exiter"})
        assert out.returncode in FINISHED, out.stderr
        assert (tmp_path / when / "generator.pt").exists()
        warning = [line for line in out.stderr.splitlines() if line.startswith("seqgan: warning:")]
        assert len(warning) == 1 and "exiter" in warning[0] and "SystemExit: 0" in warning[0], out.stderr


# -- 6. nothing hung, nothing unchecked (the probe's cases: every one a line, an exit status, nothing lost)


SLEEPER = GOOD | {"sample": "(time.sleep(1000) if next(CALLS) == {at} else torch.randint(10, (n, 4), generator=g))"}


def _sleeper(tmp_path, at):
    (tmp_path / "hostile.py").write_text("import itertools\nCALLS = itertools.count(1)\n"
                                         + PLUGIN.format(**{**SLEEPER, "sample": SLEEPER["sample"].format(at=at)}))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_hung_plugin_ends_on_a_signal_with_its_checkpoint_kept(tmp_path, sig):
    """The sampler sleeps at its 200th call (after the checkpoint at step 100): a signal ends the
    run within the grace, in one line that names the plugin and the checkpoint, exit 130."""
    _sleeper(tmp_path, 200)
    proc = _popen("train", "--rule", "hostile", "-p", "hostile", "--preset", "independent", "--max-steps", "3000",
                  "--checkpoint-every", "100", "--out", "r", cwd=tmp_path,
                  env={"PYTHONPATH": str(tmp_path)})
    _wait_for(tmp_path / "r" / "checkpoint.pt", proc)
    time.sleep(3)  # the sampler is asleep by now (its 200th call comes within a second of step 100)
    proc.send_signal(sig)
    started = time.time()
    _, err = proc.communicate(timeout=60)
    assert time.time() - started < 30, err
    assert proc.returncode == 130, err
    [line] = _errors(err)
    assert "rule 'hostile' (plugin hostile): sample() was still running" in line, line
    assert f"did not end after {signal.Signals(sig).name}; abandoned it; the checkpoint at step 100 is kept: " \
           "continue with `seqgan train --resume r`" in line, line
    assert _checkpoint(tmp_path / "r")["step"] == 100


def test_a_plugin_call_over_its_time_limit_is_one_line(tmp_path, main_in_process, monkeypatch):
    _sleeper(tmp_path, 3)
    monkeypatch.delitem(sys.modules, "hostile", raising=False)
    monkeypatch.setenv("SEQGAN_PLUGIN_TIMEOUT", "1")
    code, _, err = main_in_process("train", "--rule", "hostile", "-p", "hostile", "--max-steps", "50", "--out", "r",
                                   path=tmp_path)
    assert code == 1, err
    [line] = _errors(err)
    assert "rule 'hostile' (plugin hostile): sample() did not return within 1 s (SEQGAN_PLUGIN_TIMEOUT)" in line


@pytest.mark.parametrize("value", ["float('nan')", "float('inf')"])
def test_a_non_finite_distance_from_the_start_keeps_a_model(tmp_path, main_in_process, monkeypatch, value):
    (tmp_path / "hostile.py").write_text(PLUGIN.format(**{**GOOD, "distance": value}))
    monkeypatch.delitem(sys.modules, "hostile", raising=False)
    code, _, err = main_in_process("train", "--rule", "hostile", "-p", "hostile", "--preset", "independent",
                                   "--distance", "rule", "--max-steps", "100", "--out", "r", path=tmp_path)
    assert code == 1, err
    [line] = _errors(err)
    shown = "nan" if "nan" in value else "inf"
    assert f"training diverged: rule 'hostile' (plugin hostile) returned distance {shown} at step 50" in line, line
    code, out, err = main_in_process("sample", tmp_path / "r", "-n", "2")
    assert code == 0 and len(out.splitlines()) == 2, err


@pytest.mark.parametrize("env, message", [
    ({"WORLD_SIZE": "2"}, "WORLD_SIZE=2 is set but RANK is not"),
    ({"WORLD_SIZE": "abc"}, "environment variable WORLD_SIZE='abc' must be a whole number of at least 1"),
    ({"WORLD_SIZE": "0"}, "environment variable WORLD_SIZE='0' must be a whole number of at least 1"),
    ({"LOCAL_RANK": "x"}, "environment variable LOCAL_RANK='x' must be a whole number"),
    ({"WORLD_SIZE": "2", "RANK": "5"}, "RANK=5 is not below WORLD_SIZE=2"),
    ({"RANK": "-1"}, "environment variable RANK='-1' must be a whole number of at least 0"),
    ({"SEQGAN_PLUGIN_TIMEOUT": "soon"}, "SEQGAN_PLUGIN_TIMEOUT='soon' must be a number of seconds"),
    ({"SEQGAN_DDP_TIMEOUT": "abc"}, "SEQGAN_DDP_TIMEOUT must be a number of seconds"),
])
def test_every_environment_variable_is_checked_in_one_line(main_in_process, monkeypatch, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, _, err = main_in_process("train", "--rule", "multiples5", "--max-steps", "5", "--out", "r")
    assert code == 2, err
    [line] = _errors(err)
    assert message in line, line


@pytest.mark.parametrize("value", ["abc", "1.5", ""])
def test_a_set_seed_that_is_not_a_whole_number_is_one_line(tmp_path, main_in_process, value):
    code, _, err = main_in_process("train", "--rule", "multiples5", "--max-steps", "5", "--set", f"seed={value}",
                                   "--out", "r")
    assert code == 2, err
    [line] = _errors(err)
    assert f"--set seed={value} is not a whole number" in line
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "sparse"])
@pytest.mark.parametrize("command", ["sample", "evaluate"])
def test_a_model_path_is_checked_like_a_data_path(tmp_path, main_in_process, kind, command):
    """A FIFO would block, /dev/zero never ends, a 2 GB sparse file is no model: each answers at
    once, without reading it into memory."""
    import resource

    if kind == "fifo":
        path, message = tmp_path / "fifo.pt", "is a FIFO, not a model file"
        os.mkfifo(path)
    elif kind == "dev-zero":
        path, message = "/dev/zero", "is a device, not a model file"
    else:
        path, message = tmp_path / "sparse.pt", "not a seqgan model file"
        with open(path, "wb") as f:
            f.truncate(2 << 30)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.time()
    code, _, err = main_in_process(command, path, "--trust")
    assert time.time() - started <= 2, err
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before <= 200 * 1024  # KiB
    assert code == 2, err
    [line] = _errors(err)
    assert message in line, line


def test_a_run_folder_samples_its_weights_and_a_program_needs_trust(real_run, tmp_path, main_in_process,
                                                                   monkeypatch):
    """A TorchScript file can run code when it loads (a crafted __setstate__ writing files): seqgan
    loads a run folder's weights-only file, and a program given by path only with --trust."""
    def never(*a, **k):
        raise AssertionError("torch loaded a program without --trust")

    monkeypatch.setattr(torch.jit, "load", never)
    program = real_run / "run" / "generator.pt"
    for command in ("sample", "evaluate"):
        code, _, err = main_in_process(command, program, "-n", "5")
        assert code == 2, err
        [line] = _errors(err)
        assert f"'{program}' is a TorchScript program, and loading it runs code its author wrote; pass --trust" \
            in line, line
    code, out, err = main_in_process("sample", real_run / "run", "-n", "5")
    assert code == 0 and len(out.splitlines()) == 5, err
    old = tmp_path / "old"  # a run folder from before the weights-only copy: its program needs trust too
    old.mkdir()
    (old / "generator.pt").write_bytes(program.read_bytes())
    code, _, err = main_in_process("sample", old, "-n", "5")
    assert code == 2 and "pass --trust" in err, err


def test_evaluate_refuses_a_changed_data_file_unless_forced(data_run, tmp_path, main_in_process):
    changed = tmp_path / "names.txt"
    changed.write_text((data_run / "names.txt").read_text() + "a b c a\n")
    code, _, err = main_in_process("evaluate", data_run / "r", "-n", "50", "--data", changed)
    assert code == 2, err
    [line] = _errors(err)
    assert f"{changed} is not the file this model was trained on" in line and "--force" in line, line
    code, out, err = main_in_process("evaluate", data_run / "r", "-n", "50", "--data", changed, "--force")
    assert code == 0, err
    assert "seqgan: warning:" in err and "scoring against it anyway (--force)" in err and "verdict:" in out
    code, out, err = main_in_process("evaluate", data_run / "r", "-n", "50")  # the original file: as before
    assert code == 0 and "warning" not in err, err


def test_a_plugin_reusing_a_builtin_name_breaks_only_that_name(tmp_path, main_in_process, monkeypatch):
    (tmp_path / "dup.py").write_text(PLUGIN.format(**GOOD).replace('name="hostile"', 'name="checksum"'))
    monkeypatch.delitem(sys.modules, "dup", raising=False)
    code, out, err = main_in_process("rules", "-p", "dup", path=tmp_path)
    assert code == 0, err
    assert [line.split()[1] for line in out.splitlines() if line.split()[0] == "checksum"] == \
        ["seqgan_plugins.checksum", "dup"]
    code, _, err = main_in_process("train", "--rule", "multiples5", "-p", "dup", "--max-steps", "20", "--out", "m")
    assert code in FINISHED, err
    code, _, err = main_in_process("train", "--rule", "checksum", "-p", "dup", "--max-steps", "20", "--out", "c")
    assert code == 2, err
    [line] = _errors(err)
    assert "rule 'checksum' is registered by plugin 'seqgan_plugins.checksum' and by plugin 'dup'" in line, line


@pytest.mark.parametrize("change, message", [
    ({"step": "abc"}, "its step is 'abc', not a whole number of steps"),
    ({"step": -5}, "its step is -5, not a whole number of steps"),
    ({"step": True}, "its step is True"),
    ("nan-weights", "holds NaN or infinite values"),
])
def test_a_hand_edited_checkpoint_is_refused_in_one_line(tmp_path, main_in_process, change, message):
    code, _, err = main_in_process("train", "--rule", "multiples5", "--max-steps", "20", "--checkpoint-every", "10",
                                   "--out", "r")
    assert code in FINISHED, err
    state = _checkpoint(tmp_path / "r")
    state["stop_reason"] = None  # as if interrupted
    if change == "nan-weights":
        tensor = next(t for t in _tensors(state["parts"]) if t.is_floating_point())
        tensor.fill_(float("nan"))
    else:
        state.update(change)
    torch.save(state, tmp_path / "r" / "checkpoint.pt")
    code, _, err = main_in_process("train", "--resume", "r", "--max-steps", "40")
    assert code == 2, err
    [line] = _errors(err)
    assert message in line and "checkpoint.pt is damaged" in line, line


def _tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)


def test_a_full_disk_message_names_what_was_kept(tmp_path, monkeypatch, capsys):
    """history.jsonl and the checkpoint do not fit: the line says the model and config.json are
    whole and that `sample` works, not 'train again'."""
    from seqgan_core.runtime import atomic

    real = atomic.write_bytes

    def full(path, data):
        if os.path.basename(path) in ("history.jsonl", "checkpoint.pt"):
            _no_space(path, data)
        real(path, data)

    monkeypatch.setattr("seqgan_core.io.run.write_text", lambda path, text: full(path, text.encode()))
    monkeypatch.setattr("seqgan_core.io.run.write_bytes", full)
    out = tmp_path / "r"
    code = cli.main(["train", "--rule", "multiples5", "--max-steps", "30", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    [line] = _errors(err)
    assert f"cannot write {out / 'history.jsonl'}: No space left on device" in line, line
    assert "kept whole: generator.pt, generator.weights.pt, config.json, metrics.jsonl" in line, line
    assert f"(`seqgan sample {out}` works)" in line and "train again" in line, line
    monkeypatch.undo()
    assert cli.main(["sample", str(out), "-n", "2"]) == 0
