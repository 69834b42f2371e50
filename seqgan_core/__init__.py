"""seqgan: GANs that generate sequences of discrete tokens, with rules as pluggy plugins.

Plugin authors need only ``Rule`` and ``hookimpl``::

    from seqgan_core import Rule, hookimpl

Notebook users train with ``SeqGAN`` (``fit``, ``sample``, ``save``, ``load``)::

    from seqgan_core import SeqGAN
    gan = SeqGAN().fit("multiples5")
"""

from .errors import SeqganError
from .hookspecs import hookimpl
from .rule import Rule
from .vocabulary import Vocabulary

__version__ = "0.2.0"

__all__ = ["Rule", "SeqGAN", "SeqganError", "Vocabulary", "hookimpl", "__version__"]


def __getattr__(name):  # SeqGAN pulls in the whole engine; plugins importing Rule need none of it
    if name == "SeqGAN":
        from .api import SeqGAN

        return SeqGAN
    raise AttributeError(f"module 'seqgan_core' has no attribute {name!r}")
