"""seqgan: GANs that generate sequences of discrete tokens, with rules as pluggy plugins.

Plugin authors need only ``Rule`` and ``hookimpl``::

    from seqgan_core import Rule, hookimpl

Notebook users train with ``SeqGAN`` (``fit``, ``sample``, ``save``, ``load``)::

    from seqgan_core import SeqGAN
    gan = SeqGAN().fit("multiples5")
"""

from seqgan_core.errors import SeqganError
from seqgan_core.plugins.hookspecs import hookimpl
from seqgan_core.rules.rule import Rule
from seqgan_core.rules.vocabulary import Vocabulary

from seqgan_core._version import __version__

__all__ = ["Rule", "SeqGAN", "SeqganError", "Vocabulary", "hookimpl", "__version__"]


def __getattr__(name):  # SeqGAN pulls in the whole engine; plugins importing Rule need none of it
    if name == "SeqGAN":
        from seqgan_core.api import SeqGAN

        return SeqGAN
    raise AttributeError(f"module 'seqgan_core' has no attribute {name!r}")
