import json
import shutil
import subprocess
import sys
import textwrap
import types
import warnings
from pathlib import Path

import pytest
import torch
from conftest import FINISHED

from seqgan_core import Rule, hookimpl
from seqgan_core.errors import PluginError, RuleError
from seqgan_core.plugins.manager import (
    DEFAULT_PLUGINS, PluginLoadWarning, describe_plugins, get_plugin_manager, get_rule, load_rules,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "seqgan-evens"
BUILTIN_RULES = ("multiples5", "ascending", "arithmetic", "palindrome", "checksum", "checkdigit", "checkdigit-free",
                 "permutation", "brackets", "expression", "oracle", "seqgan-oracle")

RULE_MODULE = """
import torch
from seqgan_core import Rule, hookimpl

@hookimpl
def register_rules(register):
    register(Rule(name={name!r}, description="test rule", vocab=["a", "b"], length=3,
                  sample=lambda n, g: torch.randint(2, (n, 3), generator=g),
                  is_valid=lambda s: torch.ones(len(s), dtype=torch.bool)))
"""


def fake_distribution(site: Path, dist: str, module: str, source: str, ep_name: str | None = None):
    """An installed-looking package: a module plus a .dist-info with a `seqgan` entry point."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[seqgan]\n{ep_name or module} = {module}\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    yield site
    for name in [m for m in sys.modules if m.startswith("fake_")]:
        del sys.modules[name]


@pytest.fixture
def throwaway_plugin():
    """A plugin object registered by hand and removed afterwards."""
    pm = get_plugin_manager(entry_points=False)
    plugin = types.SimpleNamespace()

    @hookimpl
    def register_rules(register):
        register(Rule(name="throwaway", description="x", vocab=[0, 1], length=1,
                      sample=lambda n, g: torch.zeros(n, 1, dtype=torch.long),
                      is_valid=lambda s: s[:, 0] == 0))

    plugin.register_rules = register_rules
    pm.register(plugin, name="throwaway-plugin")
    try:
        yield pm
    finally:
        pm.unregister(name="throwaway-plugin")


def test_builtins_are_ordinary_plugins():
    pm = get_plugin_manager(entry_points=False)
    assert [name for name, _ in pm.list_name_plugin()] == list(DEFAULT_PLUGINS)
    rules = load_rules(pm)
    assert rules["multiples5"].plugin == "seqgan_plugins.multiples5"


def test_throwaway_plugin_rule_is_found(throwaway_plugin):
    rule = get_rule(load_rules(throwaway_plugin), "throwaway")
    assert rule.plugin == "throwaway-plugin"
    assert "throwaway-plugin" in [p["name"] for p in describe_plugins(throwaway_plugin)]


def test_unknown_rule_lists_available():
    with pytest.raises(RuleError, match="unknown rule 'nope'; available rules: arithmetic, ascending, brackets, checkdigit, checkdigit-free, checksum"):
        get_rule(load_rules(get_plugin_manager(entry_points=False)), "nope")


def test_entry_point_distribution_is_loaded(site):
    fake_distribution(site, "fake-letters", "fake_letters", RULE_MODULE.format(name="letters"))
    pm = get_plugin_manager()
    rules = load_rules(pm)
    assert rules["letters"].plugin == "fake_letters"
    assert {"name": "fake_letters", "version": "1.2.3", "hooks": ["register_rules"],
            "provides": {"rules": ["letters"]}} in describe_plugins(pm)


def test_broken_entry_point_is_one_warning_and_skipped(site):
    fake_distribution(site, "fake-broken", "fake_broken", "raise ImportError('no numpy here')")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rules = load_rules(get_plugin_manager())
    assert "multiples5" in rules
    messages = [str(w.message) for w in caught if issubclass(w.category, PluginLoadWarning)]
    assert len(messages) == 1 and "fake_broken" in messages[0] and "no numpy here" in messages[0]


def test_duplicate_rule_names_both_plugins(site):
    """A clash is an error only for the name asked for: every other rule stays usable."""
    fake_distribution(site, "fake-dup", "fake_dup", RULE_MODULE.format(name="multiples5"))
    rules = load_rules(get_plugin_manager())
    with pytest.raises(RuleError, match="'seqgan_plugins.multiples5' and by plugin 'fake_dup'"):
        rules["multiples5"]  # noqa: B018
    assert rules["palindrome"].plugin == "seqgan_plugins.palindrome"
    assert [r.plugin for r in rules.all_rules() if r.name == "multiples5"] == ["seqgan_plugins.multiples5",
                                                                              "fake_dup"]


def test_misspelled_hook_name_is_an_error(site):
    (site / "fake_typo.py").write_text(
        "from seqgan_core import hookimpl\n@hookimpl\ndef register_rule(register):\n    pass\n"
    )
    with pytest.raises(PluginError, match="plugin 'fake_typo' is invalid.*register_rule"):
        get_plugin_manager(["fake_typo"])


def test_wrong_hook_arguments_is_an_error(site):
    (site / "fake_args.py").write_text(
        "from seqgan_core import hookimpl\n@hookimpl\ndef register_rules(register, extra):\n    pass\n"
    )
    with pytest.raises(PluginError, match="plugin 'fake_args' is invalid"):
        get_plugin_manager(["fake_args"])


def test_p_module_and_its_import_failure(site):
    (site / "fake_local.py").write_text(RULE_MODULE.format(name="local"))
    assert "local" in load_rules(get_plugin_manager(["fake_local"]))
    with pytest.raises(PluginError, match="cannot import plugin module 'fake_missing'"):
        get_plugin_manager(["fake_missing"])


def test_plugin_registering_a_non_rule_is_named(site):
    (site / "fake_nonrule.py").write_text(
        "from seqgan_core import hookimpl\n@hookimpl\ndef register_rules(register):\n    register('x')\n"
    )
    with pytest.raises(PluginError, match="plugin 'fake_nonrule' failed in register_rules: registered str"):
        load_rules(get_plugin_manager(["fake_nonrule"]))


def test_installed_plugin_failing_in_register_rules_is_skipped(site):
    fake_distribution(site, "fake-boom", "fake_boom",
                      "from seqgan_core import Rule, hookimpl\n@hookimpl\ndef register_rules(register):\n"
                      "    register(Rule(name='bad name', description='', vocab=[0], length=1,\n"
                      "                  sample=None, is_valid=None))\n")
    with pytest.warns(PluginLoadWarning, match="skipping plugin 'fake_boom' failed in register_rules: rule name 'bad name'"):
        rules = load_rules(get_plugin_manager())
    assert set(BUILTIN_RULES) <= set(rules) and "bad name" not in rules
    assert not [r for r in rules.values() if r.plugin == "fake_boom"], rules


def test_cli_lists_entry_point_rules_and_warns_about_broken_ones(site, run_cli):
    fake_distribution(site, "fake-letters", "fake_letters", RULE_MODULE.format(name="letters"))
    fake_distribution(site, "fake-broken", "fake_broken", "import not_a_module_anywhere")
    env = {"PYTHONPATH": str(site)}
    out = run_cli("rules", env=env)
    assert out.returncode == 0, out.stderr
    assert "letters" in out.stdout and "multiples5" in out.stdout
    assert out.stderr.count("\n") == 1 and "seqgan: warning: skipping plugin 'fake_broken'" in out.stderr
    plugins = json.loads(run_cli("plugins", env=env).stdout)
    assert {"name": "fake_letters", "version": "1.2.3", "hooks": ["register_rules"],
            "provides": {"rules": ["letters"]}} in plugins


def test_pip_installed_example_package_trains(tmp_path, run_cli):
    """The example package in examples/, installed with pip, is found and trains with no other step."""
    target = tmp_path / "installed"
    # built from a copy, so that no egg-info is left in the source tree (see test_example_extras)
    source = shutil.copytree(EXAMPLE, tmp_path / "source", ignore=shutil.ignore_patterns("build", "*.egg-info"))
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert pip.returncode == 0, pip.stderr
    env = {"PYTHONPATH": str(target)}
    rules = run_cli("rules", env=env)
    assert rules.returncode == 0, rules.stderr
    assert any(line.split()[:2] == ["evens", "evens"] for line in rules.stdout.splitlines())
    out = run_cli("train", "--rule", "evens", "--max-steps", "30", "--out", "ev", env=env)
    assert out.returncode in FINISHED, out.stderr
    sample = run_cli("sample", "ev", "-n", "3", env=env)
    assert sample.returncode == 0 and len(sample.stdout.splitlines()) == 3


def test_no_plugins_and_the_allow_list(site, run_cli, monkeypatch):
    fake_distribution(site, "fake-letters", "fake_letters", RULE_MODULE.format(name="letters"))
    fake_distribution(site, "fake-digits", "fake_digits", RULE_MODULE.format(name="digits"))
    fake_distribution(site, "fake-broken", "fake_broken", "raise ImportError('broken on purpose')")
    with pytest.warns(PluginLoadWarning, match="fake_broken"):
        assert {"letters", "digits"} <= set(load_rules(get_plugin_manager()))
    assert set(load_rules(get_plugin_manager(entry_points=False))) == set(BUILTIN_RULES)

    monkeypatch.setenv("SEQGAN_LOAD_PLUGINS", "fake_digits")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the broken plugin is not even imported
        assert set(load_rules(get_plugin_manager())) == set(BUILTIN_RULES) | {"digits"}
    monkeypatch.setenv("SEQGAN_LOAD_PLUGINS", "")
    assert set(load_rules(get_plugin_manager())) == set(BUILTIN_RULES)
    monkeypatch.setenv("SEQGAN_LOAD_PLUGINS", "fake_letters, nope")
    with pytest.warns(PluginLoadWarning, match="names 'nope', but no installed plugin has that name"):
        assert "letters" in load_rules(get_plugin_manager())
    monkeypatch.delenv("SEQGAN_LOAD_PLUGINS")

    env = {"PYTHONPATH": str(site)}
    def names(out):
        assert out.returncode == 0 and out.stderr == "", out.stderr
        return {line.split()[0] for line in out.stdout.splitlines()}

    assert names(run_cli("rules", "--no-plugins", env=env)) == set(BUILTIN_RULES)
    assert names(run_cli("rules", env={**env, "SEQGAN_LOAD_PLUGINS": "fake_letters"})) == {*BUILTIN_RULES, "letters"}


def test_p_module_is_found_in_the_current_directory(tmp_path):
    """README plugin step 3: `seqgan rules -p seqgan_evens` run from the plugin's folder. The
    installed `seqgan` script (unlike `python -m`) does not put the current directory on sys.path."""
    (tmp_path / "fake_cwd_rules.py").write_text(RULE_MODULE.format(name="cwd-rule"))
    script = Path(sys.executable).parent / "seqgan"
    if not script.exists():
        pytest.skip("the seqgan console script is not installed beside this Python")
    out = subprocess.run([str(script), "rules", "--no-plugins", "-p", "fake_cwd_rules"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "cwd-rule" in out.stdout
