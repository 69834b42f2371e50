"""The one error type seqgan raises for mistakes a user can fix.

The CLI prints ``str(error)`` as a single line and exits with status 2, so every message must
name the culprit (a file, a token, a rule, a plugin) and say what to do about it.
"""

import os

LAUNCHED_ENV = "SEQGAN_LAUNCHED"  # set by distributed.launch: the launcher, not each survivor, reports a lost rank
EXIT_FAILED = 1  # the run could not go on: training diverged, or a data-parallel rank died
EXIT_LOST = 4  # the exit status of a rank that lost the others


class SeqganError(Exception):
    """A problem with the user's input, files or plugins; the message is shown as is."""


class LostPeers(SeqganError):
    """Another data-parallel rank died or hung; under ``seqgan --nproc`` the launcher says which, once."""

    @property
    def quiet(self) -> bool:
        return os.environ.get(LAUNCHED_ENV) == "1"


class VocabularyError(SeqganError, ValueError):
    """A token, index or one-hot tensor that does not fit a vocabulary."""


class RuleError(SeqganError, ValueError):
    """A rule that breaks the plugin contract, or a rule name nobody registered."""


class PluginError(SeqganError):
    """A plugin that cannot be loaded or that conflicts with another one."""


class ModelFileError(SeqganError):
    """A model file that is missing, damaged or not written by seqgan."""
