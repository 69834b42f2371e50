"""Generators and discriminators, one family per module, their contracts (``base``), and the
exported ``Sampler``.

Every generator is a ``Generator``: ``generate(n, tau) -> (one-hots (n, L, V), indices (n, L))``
for adversarial training and ``sample(n, temperature=1.0, min_p=0.0) -> LongTensor (n, L)``, which
draws its own noise from torch's global RNG, so ``torch.manual_seed(s)`` followed by ``sample(n)``
is reproducible, in seqgan and in the exported file alike. An ``AutoregressiveGenerator`` also has
``teacher_forced_logits``, ``nll``, ``token_log_probs`` (maximum likelihood on real data),
``rollout`` (completing prefixes) and ``relaxed(n, beta)`` (RelGAN's Gumbel-softmax
relaxations). Every family is built as ``Family(vocab_size, length, Family.Options(...))``.
Which families exist by name is the plugin registry's business
(``seqgan_core.plugins.registry.GENERATORS``); the built-ins register like any plugin.
"""

from seqgan_core.models.article import ArticleDiscriminator, ArticleGenerator
from seqgan_core.models.base import AutoregressiveGenerator, Discriminator, Generator
from seqgan_core.models.cnn import CNNDiscriminator
from seqgan_core.models.gru import GRUGenerator
from seqgan_core.models.highway_cnn import HighwayCNNDiscriminator
from seqgan_core.models.lstm import LSTMGenerator
from seqgan_core.models.marginals import MarginalsGenerator
from seqgan_core.models.mlp import MLPDiscriminator, MLPGenerator
from seqgan_core.models.relgan_cnn import RelGANDiscriminator
from seqgan_core.models.sampler import LikelihoodSampler, Sampler
from seqgan_core.models.sampling import categorical, gumbel_noise, gumbel_softmax, straight_through
from seqgan_core.models.transformer import TransformerGenerator

BUILTIN_GENERATORS = (MarginalsGenerator, MLPGenerator, GRUGenerator, TransformerGenerator, LSTMGenerator)
BUILTIN_DISCRIMINATORS = (MLPDiscriminator, CNNDiscriminator, HighwayCNNDiscriminator, RelGANDiscriminator)

__all__ = [
    "BUILTIN_DISCRIMINATORS", "BUILTIN_GENERATORS", "ArticleDiscriminator", "ArticleGenerator",
    "AutoregressiveGenerator", "CNNDiscriminator", "Discriminator", "Generator", "GRUGenerator",
    "HighwayCNNDiscriminator", "LikelihoodSampler", "LSTMGenerator", "MarginalsGenerator", "MLPDiscriminator", "MLPGenerator", "RelGANDiscriminator",
    "Sampler", "TransformerGenerator", "categorical", "gumbel_noise", "gumbel_softmax", "straight_through",
]
