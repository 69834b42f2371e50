"""seqgan: GANs that generate sequences of discrete tokens, with rules as pluggy plugins.

Plugin authors need only ``Rule`` and ``hookimpl``::

    from seqgan_core import Rule, hookimpl
"""

from .errors import SeqganError
from .hookspecs import hookimpl
from .rule import Rule
from .vocabulary import Vocabulary

__version__ = "0.1.0"

__all__ = ["Rule", "SeqganError", "Vocabulary", "hookimpl", "__version__"]
