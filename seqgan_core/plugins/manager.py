"""Builds the plugin manager and the rule registry: built-ins, entry points and ``-p`` modules.

Built-in rules, model families, recipes and presets are ordinary plugins listed in
``DEFAULT_PLUGINS`` (module paths, imported by name: ``seqgan_core.engine.builtins`` sits above
this layer) and go through the same hooks as a third-party package's entry point in the
``seqgan`` group. The registries of everything but rules are ``seqgan_core.plugins.registry``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
import time
import warnings
from collections.abc import Iterable

import pluggy

from seqgan_core.plugins import hookspecs
from seqgan_core.errors import PluginError, RuleError
from seqgan_core.rules.rule import Rule

ENTRY_POINT_GROUP = "seqgan"
ALLOW_ENV = "SEQGAN_LOAD_PLUGINS"  # comma-separated entry-point names to load; empty = none
SLOW_PLUGIN_S = 3.0  # a plugin slower than this to import or register is named in a warning

DEFAULT_PLUGINS: tuple[str, ...] = (
    "seqgan_plugins.multiples5",
    "seqgan_plugins.ascending",
    "seqgan_plugins.arithmetic",
    "seqgan_plugins.palindrome",
    "seqgan_plugins.checksum",
    "seqgan_plugins.checkdigit",
    "seqgan_plugins.permutation",
    "seqgan_plugins.brackets",
    "seqgan_plugins.expression",
    "seqgan_plugins.oracle",
    "seqgan_plugins.paper_oracle",
    "seqgan_core.engine.builtins",  # the built-in generators, discriminators, recipes and presets
)


class PluginLoadWarning(UserWarning):
    """An installed plugin failed to import and was skipped."""


class PluginManager(pluggy.PluginManager):
    def __init__(self):
        super().__init__("seqgan")
        self.add_hookspecs(hookspecs)
        self.versions: dict[str, str | None] = {}  # plugin name -> distribution version
        self.entry_point_names: set[str] = set()  # plugins that came from installed packages


def allowed_entry_points() -> set[str] | None:
    """The ``SEQGAN_LOAD_PLUGINS`` allow-list: None when unset (load all), else the names."""
    value = os.environ.get(ALLOW_ENV)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def get_plugin_manager(
    modules: Iterable[str] = (), *, entry_points: bool = True, allow: set[str] | None = None
) -> PluginManager:
    """Register built-ins, then installed entry points, then ``modules`` (``-p``).

    Entry points are skipped entirely with ``entry_points=False`` (``--no-plugins``) and limited
    to ``allow`` (default: the ``SEQGAN_LOAD_PLUGINS`` allow-list) otherwise. A broken *installed*
    plugin is skipped with a ``PluginLoadWarning`` so the CLI keeps working; a module named
    explicitly in ``modules`` that fails to import is an error.
    """
    from seqgan_core._version import __version__

    pm = PluginManager()
    for name in DEFAULT_PLUGINS:
        _register(pm, importlib.import_module(name), name, version=__version__)
    if entry_points:
        _load_entry_points(pm, allowed_entry_points() if allow is None else allow)
    for name in modules:
        try:
            module = _import_from_cwd(name)
        except (Exception, SystemExit) as e:  # noqa: BLE001 - any import failure is the plugin's
            raise PluginError(f"cannot import plugin module {name!r} (-p): {type(e).__name__}: {e}") from None
        if pm.is_registered(module):
            continue
        _register(pm, module, name, version=None)
    return pm


def _import_from_cwd(name: str):
    """Import a ``-p`` module, also from the current directory: ``python -m`` puts it on
    sys.path, the installed ``seqgan`` script does not, and ``-p`` should not depend on how seqgan
    was started. The directory is searched last, so it never shadows an installed module."""
    cwd = os.getcwd()
    added = cwd not in sys.path and "" not in sys.path
    if added:
        sys.path.append(cwd)
    try:
        return importlib.import_module(name)
    finally:
        if added:
            sys.path.remove(cwd)


def _load_entry_points(pm: PluginManager, allow: set[str] | None) -> None:
    seen = set()
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group != ENTRY_POINT_GROUP or pm.get_plugin(ep.name) is not None:
                continue
            seen.add(ep.name)
            if allow is not None and ep.name not in allow:
                continue
            started = time.perf_counter()
            try:
                plugin = ep.load()
            except (Exception, SystemExit) as e:  # noqa: BLE001 - a broken plugin must not break (or end) seqgan
                warnings.warn(
                    f"skipping plugin {ep.name!r} ({ep.value}, from {dist.metadata['Name']}): "
                    f"import failed with {type(e).__name__}: {e}",
                    PluginLoadWarning,
                    stacklevel=2,
                )
                continue
            _warn_if_slow(ep.name, "import", time.perf_counter() - started)
            _register(pm, plugin, ep.name, version=dist.version)
            pm.entry_point_names.add(ep.name)
    for name in sorted((allow or set()) - seen):
        warnings.warn(f"{ALLOW_ENV} names {name!r}, but no installed plugin has that name",
                      PluginLoadWarning, stacklevel=2)


def _warn_if_slow(name: str, what: str, seconds: float) -> None:
    if seconds > SLOW_PLUGIN_S:
        warnings.warn(f"plugin {name!r} took {seconds:.1f} s to {what}, and every seqgan command waits for it; "
                      f"switch it off with --no-plugins or {ALLOW_ENV} if you do not need it",
                      PluginLoadWarning, stacklevel=3)


def _register(pm: PluginManager, plugin, name: str, version: str | None) -> None:
    try:
        pm.register(plugin, name=name)
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        if pm.get_plugin(name) is not None:
            pm.unregister(name=name)
        raise PluginError(
            f"plugin {name!r} is invalid: {' '.join(str(e).split())}; fix it, or switch it off with --no-plugins "
            f"or {ALLOW_ENV}"
        ) from None
    pm.versions[name] = version


class AmbiguousRule(RuleError):
    """A rule name that two plugins claim, asked for: which one is meant cannot be known."""


class RuleRegistry(dict):
    """Rules by name. A name two plugins claim maps to the first, but asking for it (``registry[name]``,
    ``get``) is an ``AmbiguousRule`` naming both plugins: only a command that needs that name fails,
    every other rule stays usable. ``all_rules()`` lists every rule, both of a clash included."""

    def __init__(self):
        super().__init__()
        self.conflicts: dict[str, list[Rule]] = {}  # name -> every rule registered under it, in order

    def __getitem__(self, name):
        if name in self.conflicts:
            rules = self.conflicts[name]
            plugins = " and by plugin ".join(repr(r.plugin) for r in rules)
            raise AmbiguousRule(f"rule {name!r} is registered by plugin {plugins}; uninstall one of them, or "
                                f"leave the installed ones out with --no-plugins or {ALLOW_ENV}")
        return super().__getitem__(name)

    def get(self, name, default=None):
        return self[name] if name in self else default

    def all_rules(self) -> list[Rule]:
        out = []
        for name, rule in self.items():
            out.extend(self.conflicts.get(name, [rule]))
        return out

    def add(self, rule: Rule) -> None:
        if rule.name in self:
            self.conflicts.setdefault(rule.name, [dict.__getitem__(self, rule.name)]).append(rule)
        else:
            self[rule.name] = rule


def load_rules(pm: PluginManager) -> RuleRegistry:
    """Call every plugin's ``register_rules`` and collect the rules by name.

    Each implementation is called on its own so that ``register`` knows which plugin it serves:
    errors name the plugin, and two plugins claiming one rule name are both named. An *installed*
    plugin that fails in ``register_rules`` is skipped with a warning (so it cannot block seqgan);
    a built-in or ``-p`` plugin that fails is an error. A name claimed twice is an error only when
    it is asked for (``RuleRegistry``).
    """
    rules = RuleRegistry()
    for impl in pm.hook.register_rules.get_hookimpls():  # registration order: built-ins first
        plugin_name = impl.plugin_name
        mine: dict[str, Rule] = {}

        def register(rule: Rule, _plugin=plugin_name, _mine=mine) -> None:
            if not isinstance(rule, Rule):
                raise RuleError(f"registered {type(rule).__name__}, expected seqgan_core.Rule")
            if rule.name in _mine:
                raise RuleError(f"rule {rule.name!r} is registered twice by the same plugin")
            rule.plugin = _plugin
            _mine[rule.name] = rule

        kwargs = {"register": register} if "register" in impl.argnames else {}
        started = time.perf_counter()
        try:
            impl.function(**kwargs)
        except (Exception, SystemExit) as e:  # noqa: BLE001 - whatever a plugin raises is the plugin's
            detail = str(e) if isinstance(e, RuleError) else f"{type(e).__name__}: {e}"
            message = f"plugin {plugin_name!r} failed in register_rules: {detail}"
            if plugin_name in pm.entry_point_names:
                warnings.warn(f"skipping {message}", PluginLoadWarning, stacklevel=2)
                continue
            raise PluginError(message) from None
        _warn_if_slow(plugin_name, "register its rules", time.perf_counter() - started)
        for rule in mine.values():
            rules.add(rule)
    return rules


def get_rule(rules: dict[str, Rule], name: str) -> Rule:
    try:
        return rules[name]  # a name two plugins claim: AmbiguousRule (RuleRegistry)
    except KeyError:
        available = ", ".join(sorted(rules)) or "(none)"
        raise RuleError(f"unknown rule {name!r}; available rules: {available}") from None


PROVIDED = {"rules": "register_rules", "generators": "register_generators",
            "discriminators": "register_discriminators", "recipes": "register_recipes", "presets": "register_presets"}


def provided(pm: PluginManager, plugin_name: str) -> dict[str, list[str]]:
    """The names one plugin registers through each hook it implements (nothing is validated here)."""
    out: dict[str, list[str]] = {}
    for what, hook in PROVIDED.items():
        for impl in getattr(pm.hook, hook).get_hookimpls():
            if impl.plugin_name != plugin_name:
                continue
            names: list[str] = []

            def register(thing, _names=names) -> None:
                _names.append(str(thing.name))

            try:
                impl.function(**({"register": register} if "register" in impl.argnames else {}))
            except (Exception, SystemExit) as e:  # noqa: BLE001 - listing must not fail on a broken plugin
                names.append(f"(failed: {type(e).__name__})")
            out[what] = names
    return out


def describe_plugins(pm: PluginManager) -> list[dict]:
    """What ``seqgan plugins`` prints: name, version, hooks of every registered plugin and what it
    provides through them (rules, generators, discriminators, recipes, presets)."""
    out = []
    for name, plugin in pm.list_name_plugin():
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        out.append({"name": name, "version": pm.versions.get(name), "hooks": hooks, "provides": provided(pm, name)})
    return sorted(out, key=lambda d: d["name"])
