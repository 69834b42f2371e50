"""The built wheel holds every package and data file of the source tree.

Editable installs import straight from the checkout, so a package left out of the wheel passes every
other test; this one builds the wheel as ``pip install .`` would and compares. (.ci/wheel goes further:
it installs that wheel into a fresh environment and runs the quick start from outside the checkout.)
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# source folder -> the name it installs under
INSTALLED_AS = {"seqgan_core": "seqgan_core", "plugins": "seqgan_plugins"}
DATA_SUFFIXES = {".npz", ".json", ".txt", ".csv"}


def source_files() -> set[str]:
    """Every module and data file the wheel must carry, as wheel paths."""
    wanted = set()
    for folder, name in INSTALLED_AS.items():
        for path in (ROOT / folder).rglob("*"):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            if path.suffix == ".py" or path.suffix in DATA_SUFFIXES:
                wanted.add(f"{name}/{path.relative_to(ROOT / folder).as_posix()}")
    return wanted


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(ROOT)], capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"pip wheel failed:\n{done.stderr[-3000:]}")
    (found,) = out.glob("seqgan-*.whl")
    return found


def test_the_wheel_carries_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(source_files() - names)
    assert not missing, f"left out of {wheel.name}: {', '.join(missing)}"


def test_every_package_folder_is_a_package():
    # a folder of modules without __init__.py is skipped by package discovery, so it would never ship
    for folder in INSTALLED_AS:
        for path in (ROOT / folder).rglob("*.py"):
            if "__pycache__" in path.parts or path.parent == ROOT / folder:
                continue
            assert (path.parent / "__init__.py").exists(), f"{path.parent} has modules but no __init__.py"


def test_the_wheel_declares_the_cli_and_the_builtin_plugins(wheel):
    archive = zipfile.ZipFile(wheel)
    (entry_points,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = archive.read(entry_points).decode()
    assert "seqgan = seqgan_core.cli:main" in text


def test_the_check_sees_a_missing_package(wheel, tmp_path):
    # the comparison itself can fail: a wheel without the engine's recipes is reported
    broken = tmp_path / "broken.whl"
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            if not item.filename.startswith("seqgan_core/engine/recipes/"):
                dst.writestr(item, src.read(item))
    missing = source_files() - set(zipfile.ZipFile(broken).namelist())
    assert "seqgan_core/engine/recipes/__init__.py" in missing
