"""Generators and discriminators, one family per module, and the exported ``Sampler``.

Every generator has ``autoregressive``, ``generate(n, tau) -> (one-hots (n, L, V), indices
(n, L))`` for adversarial training and ``sample(n, temperature=1.0, min_p=0.0) -> LongTensor (n, L)``, which
draws its own noise from torch's global RNG, so ``torch.manual_seed(s)`` followed by ``sample(n)``
is reproducible, in seqgan and in the exported file alike. Autoregressive generators also have
``teacher_forced_logits``, ``nll`` and ``token_log_probs`` (maximum likelihood on real data).
Every family is built as ``Family(vocab_size, length, Family.Options(...))``.
"""

from seqgan_core.models.article import ArticleDiscriminator, ArticleGenerator
from seqgan_core.models.cnn import CNNDiscriminator
from seqgan_core.models.gru import GRUGenerator
from seqgan_core.models.highway_cnn import HighwayCNNDiscriminator
from seqgan_core.models.lstm import LSTMGenerator
from seqgan_core.models.marginals import MarginalsGenerator
from seqgan_core.models.mlp import MLPDiscriminator, MLPGenerator
from seqgan_core.models.sampler import LikelihoodSampler, Sampler
from seqgan_core.models.sampling import categorical, gumbel_noise, straight_through
from seqgan_core.models.transformer import TransformerGenerator

GENERATORS = {"marginals": MarginalsGenerator, "mlp": MLPGenerator, "gru": GRUGenerator,
              "transformer": TransformerGenerator, "lstm": LSTMGenerator}
DISCRIMINATORS = {"mlp": MLPDiscriminator, "cnn": CNNDiscriminator, "highway_cnn": HighwayCNNDiscriminator}

__all__ = [
    "DISCRIMINATORS", "GENERATORS", "ArticleDiscriminator", "ArticleGenerator", "CNNDiscriminator",
    "GRUGenerator", "LikelihoodSampler", "MarginalsGenerator", "MLPDiscriminator", "MLPGenerator", "Sampler", "TransformerGenerator",
    "categorical", "gumbel_noise", "straight_through",
]
