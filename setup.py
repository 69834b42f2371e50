"""Package discovery, which pyproject.toml alone cannot express for the built-in plugins.

The built-in rules live in ``plugins/`` but install as ``seqgan_plugins`` (the name their entry
points use), so every package under both folders is found here instead of listed by hand.
"""

from setuptools import find_packages, setup

core = find_packages(include=["seqgan_core", "seqgan_core.*"])
builtin = ["seqgan_plugins" + name[len("plugins"):] for name in find_packages(include=["plugins", "plugins.*"])]

setup(packages=core + builtin, package_dir={"seqgan_plugins": "plugins"})
