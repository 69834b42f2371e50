"""The tutorial's steps, done with the seqgan library instead of by hand.

    python examples/walkthrough.py [--max-steps N] [--out DIR]

1. one-hot a number and back;  2. build the rule's real batches;  3. train the `article` preset
(the tutorial's GAN) through the Python API;  4. save the run folder (TorchScript generator);
5. load it with plain torch and sample multiples of 5, and again with seqgan.
"""

import argparse
import tempfile
from pathlib import Path

import torch

from seqgan_core import SeqGAN
from seqgan_core.api import load_target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-steps", type=int, default=10_000)
    parser.add_argument("--out", default=None, help="run folder (default: a temporary one)")
    args = parser.parse_args(argv)

    # The rule comes from the plugin registry, exactly as `seqgan train --rule multiples5` gets it.
    rule = load_target("multiples5").rule
    vocab = rule.vocabulary

    # 1. One-hot: 35 -> a 100-wide vector with a 1 at index 35, and back by argmax.
    vector = vocab.one_hot(vocab.encode([35]))  # (1, 100)
    print("one-hot of 35 has its 1 at", int(vector.argmax()), "->", vocab.decode(vocab.from_one_hot(vector)))

    # 2. Real data: ten multiples of 5, as ten 100-wide rows.
    real = rule.sample(1, torch.Generator().manual_seed(0))  # (1, 10) indices
    print("a real sequence:", vocab.decode(real[0]), "rows:", tuple(vocab.one_hot(real[0]).shape))

    # 3. Train the tutorial's GAN (Linear+ReLU G, Linear+Sigmoid D, BCE, Adam 5e-4, patience 800).
    gan = SeqGAN("article", seed=0, max_steps=args.max_steps).fit(rule)
    result = gan.outcome.result
    print(f"trained {result.steps} steps ({result.stop_reason}); {gan.verdict.line}")

    # 4. Save: generator.pt (TorchScript), config.json, history, metrics.
    out = gan.save(args.out or tempfile.mkdtemp(prefix="seqgan-walkthrough-"))

    # 5. Load with plain torch: the file is a sampler, noise is drawn inside.
    sampler = torch.jit.load(str(Path(out) / "generator.pt"), map_location="cpu")
    torch.manual_seed(0)
    numbers = sampler(5)  # (5, 10) int64
    print("plain torch samples:\n", numbers)
    # ...or with seqgan, which also decodes indices back into tokens.
    for seq in SeqGAN.load(out).sample(3, seed=0):
        print(" ".join(map(str, seq)))
    return numbers


if __name__ == "__main__":
    main()
