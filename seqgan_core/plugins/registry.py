"""Registries filled by plugins: generator and discriminator families, recipes and presets.

Each registry is a mapping from a name to what a plugin registered under it, filled on first use
by calling one hook (``register_generators`` ...) of every plugin, built-ins first, and cached.
Like ``register_rules``, each plugin gets a ``register`` of its own, which validates the thing
at once, so an error names the plugin that registered it; two plugins claiming one name are both
named. Which plugins count is the plugin manager ``use`` was given, or ``get_plugin_manager()``
(built-ins, then installed entry points under the ``SEQGAN_LOAD_PLUGINS`` allow-list).

Layering: this module knows the model contracts (below it); the recipe and preset registries are
built in ``seqgan_core.engine`` with checks of their own.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from typing import TYPE_CHECKING

from seqgan_core.errors import PluginError, SeqganError

if TYPE_CHECKING:
    from seqgan_core.plugins.manager import PluginManager

# The plugin manager and the model bases import torch; they are imported when a registry is first
# read, so that building the CLI's parser (which names the presets) stays free of torch.

_source: PluginManager | None = None  # the plugin manager every registry loads from; None = the default one


class Registry(MutableMapping):
    """Name -> thing, from every plugin's ``hook``; ``lookup(name)`` fails with one line."""

    instances: list[Registry] = []  # every registry, so that ``use`` can reload them all

    def __init__(self, kind: str, hook: str, check: Callable[[Any], str]):
        self.kind, self.hook, self.check = kind, hook, check  # check(thing) -> its name, or raises SeqganError
        self._items: dict[str, Any] | None = None
        self._providers: dict[str, str] = {}
        self._plugins: tuple[str, ...] = ()  # the plugins the items came from
        Registry.instances.append(self)

    def _load(self) -> dict[str, Any]:
        if self._items is None:
            from seqgan_core.plugins.manager import get_plugin_manager

            pm = _source if _source is not None else get_plugin_manager()
            self._items, self._providers = collect(pm, self.hook, self.kind, self.check)
            self._plugins = _names(pm)
        return self._items

    @property
    def providers(self) -> dict[str, str]:
        """Name -> the plugin that registered it."""
        self._load()
        return self._providers

    def reset(self) -> None:
        """Forget what was loaded: the next use asks the plugins again."""
        self._items, self._providers = None, {}

    def __getitem__(self, name: str) -> Any:
        return _usable(self._load()[name])

    def __setitem__(self, name: str, thing: Any) -> None:
        self._load()[name] = thing

    def __delitem__(self, name: str) -> None:
        del self._load()[name]
        self._providers.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def lookup(self, name: str) -> Any:
        """The thing registered as ``name``, or one line naming what is available."""
        items = self._load()
        if name not in items:
            raise SeqganError(f"unknown {self.kind} {name!r}; available {self.kind}s: {', '.join(sorted(items)) or '(none)'}")
        return _usable(items[name])

    def ambiguous(self) -> dict[str, tuple[str, ...]]:
        """Name -> the plugins that each registered it (an error only when the name is used)."""
        return {name: thing.plugins for name, thing in self._load().items() if isinstance(thing, Ambiguous)}


class _NameConflict(PluginError):
    """Two plugins claim one name, and that name was asked for."""


class Ambiguous:
    """What a registry holds for a name two plugins registered: an installed package that reuses a
    built-in's name must not break commands that never ask for it, so the error waits for a use."""

    def __init__(self, kind: str, name: str, plugins: tuple[str, ...]):
        self.kind, self.name, self.plugins = kind, name, plugins

    def error(self) -> _NameConflict:
        first, *others = self.plugins
        return _NameConflict(f"{self.kind} {self.name!r} is registered twice: by plugin {first!r} and by plugin "
                             f"{' and '.join(repr(o) for o in others)}; uninstall one of them")


def _usable(thing: Any) -> Any:
    if isinstance(thing, Ambiguous):
        raise thing.error()
    return thing


def collect(pm: PluginManager, hook: str, kind: str, check: Callable[[Any], str]) -> tuple[dict, dict]:
    """Call every plugin's ``hook`` with a ``register`` of its own; returns name -> thing and
    name -> plugin. An installed plugin that fails is skipped with a warning; a built-in or ``-p``
    one is an error."""
    items: dict[str, Any] = {}
    providers: dict[str, str] = {}
    for impl in getattr(pm.hook, hook).get_hookimpls():  # registration order: built-ins first
        plugin_name = impl.plugin_name
        mine: dict[str, Any] = {}

        def register(thing: Any, _plugin: str = plugin_name, _mine: dict = mine) -> None:
            try:
                name = check(thing)
            except SeqganError as e:
                raise PluginError(f"plugin {_plugin!r} registered a broken {kind}: {e}") from None
            if name in _mine:  # one plugin registering a name twice is that plugin's bug
                raise _NameConflict(f"{kind} {name!r} is registered twice by plugin {_plugin!r}")
            _mine[name] = thing

        try:
            impl.function(**({"register": register} if "register" in impl.argnames else {}))
        except _NameConflict:
            raise
        except (Exception, SystemExit) as e:  # noqa: BLE001 - whatever a plugin raises is the plugin's
            detail = str(e) if isinstance(e, PluginError) else f"plugin {plugin_name!r} failed in {hook}: {type(e).__name__}: {e}"
            if plugin_name in pm.entry_point_names:
                warnings.warn(f"skipping: {detail}", PluginLoadWarning, stacklevel=2)
                continue
            raise PluginError(detail) from None
        for name, thing in mine.items():
            if name in items:  # a second plugin claims the name: an error when the name is used
                before = items[name].plugins if isinstance(items[name], Ambiguous) else (providers[name],)
                items[name] = Ambiguous(kind, name, (*before, plugin_name))
            else:
                items[name], providers[name] = thing, plugin_name
    return items, providers


def _names(pm: PluginManager) -> tuple[str, ...]:
    return tuple(name for name, _ in pm.list_name_plugin())


def use(pm: PluginManager | None) -> None:
    """Load every registry from ``pm`` from now on (None: the default plugin manager again). A
    registry already loaded from the same plugins keeps what it holds."""
    global _source
    _source = pm
    for registry in Registry.instances:
        if pm is None or registry._items is None or registry._plugins != _names(pm):
            registry.reset()


def class_check(kind: str, base: Callable[[], type], where: str) -> Callable[[Any], str]:
    """The check a registry of classes runs on what a plugin registers: a concrete, named subclass of
    ``base()`` (resolved at the first registration, so building a registry imports nothing) whose
    ``contract_problems()`` is empty; ``where`` is the base's import path, for the error line."""
    def check(thing: Any) -> str:
        if not (inspect.isclass(thing) and issubclass(thing, base())):
            raise SeqganError(f"{thing!r} is not a subclass of {where}")
        if inspect.isabstract(thing):
            missing = ", ".join(sorted(thing.__abstractmethods__))
            raise SeqganError(f"{kind} {thing.__name__} does not implement {missing}")
        if not isinstance(thing.name, str) or not thing.name:
            raise SeqganError(f"{kind} {thing.__name__} has no name (set the class attribute name = '...')")
        problems = thing.contract_problems()
        if problems:
            raise SeqganError(f"{kind} {thing.name!r}: {'; '.join(problems)}")
        return thing.name
    return check


def _model_base(name: str) -> Callable[[], type]:
    def base() -> type:
        from seqgan_core.models import base as bases

        return getattr(bases, name)
    return base


GENERATORS = Registry("generator", "register_generators",
                      class_check("generator", _model_base("Generator"), "seqgan_core.models.Generator"))
DISCRIMINATORS = Registry("discriminator", "register_discriminators",
                          class_check("discriminator", _model_base("Discriminator"), "seqgan_core.models.Discriminator"))
