"""The package's one seqgan plugin: every hook is passed on to each module that implements it."""

import importlib
import pkgutil

from seqgan_core.plugins.hookspecs import hookimpl


def _modules():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        yield importlib.import_module(f"{__name__}.{info.name}")


def _each(hook, register):
    for module in _modules():
        implementation = getattr(module, hook, None)  # a module implements the hooks it needs
        if implementation is not None:
            implementation(register)


@hookimpl
def register_generators(register):
    _each("register_generators", register)


@hookimpl
def register_recipes(register):
    _each("register_recipes", register)


@hookimpl
def register_presets(register):
    _each("register_presets", register)
