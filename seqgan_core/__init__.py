"""seqgan: GANs that generate sequences of discrete tokens, with rules as pluggy plugins.

Plugin authors need only ``Rule`` and ``hookimpl``::

    from seqgan_core import Rule, hookimpl

Notebook users train with ``SeqGAN`` (``fit``, ``sample``, ``save``, ``load``)::

    from seqgan_core import SeqGAN
    gan = SeqGAN().fit("multiples5")
"""

from typing import TYPE_CHECKING

from seqgan_core.errors import SeqganError

from seqgan_core._version import __version__

if TYPE_CHECKING:
    from seqgan_core.api import SeqGAN
    from seqgan_core.plugins.hookspecs import hookimpl
    from seqgan_core.rules.rule import Rule
    from seqgan_core.rules.vocabulary import Vocabulary

__all__ = ["Rule", "SeqGAN", "SeqganError", "Vocabulary", "hookimpl", "__version__"]


def __getattr__(name):
    """Imported when first used: ``Rule`` brings torch, ``SeqGAN`` the whole engine, and ``seqgan
    --help`` (which imports this package) needs neither."""
    if name == "SeqGAN":
        from seqgan_core.api import SeqGAN

        return SeqGAN
    if name == "Rule":
        from seqgan_core.rules.rule import Rule

        return Rule
    if name == "Vocabulary":
        from seqgan_core.rules.vocabulary import Vocabulary

        return Vocabulary
    if name == "hookimpl":
        from seqgan_core.plugins.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'seqgan_core' has no attribute {name!r}")
