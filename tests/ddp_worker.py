"""One rank of the equal-weights test (tests/test_ddp.py), started by torchrun; also runs alone.

    python -m torch.distributed.run --nproc-per-node 2 tests/ddp_worker.py OUT.pt GLOBAL_BATCH STEPS

Maximum-likelihood steps, then D warm-up and adversarial steps, with every source of randomness
controlled: every rank draws the *global* batch of real sequences from one shared stream and the
global batch of G's samples from one shared noise seed, and keeps its own slice, so the ranks
together see exactly what one process with the global batch sees. (In real runs each rank has
its own streams; only the split of the work is under test here.)
"""

import sys

import torch

from seqgan_core.runtime import distributed
from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.engine.presets import preset_config
from seqgan_core.engine.training import Trainer


def main(out: str, global_batch: int, steps: int) -> None:
    ctx = distributed.setup("cpu")
    rank, size = (ctx.rank, ctx.world_size) if ctx else (0, 1)
    rule = load_rules(get_plugin_manager(entry_points=False))["palindrome"]
    config = preset_config("autoregressive", seed=3, max_steps=steps, pretrain_steps=steps // 2, d_warmup=2,
                           batch_size=global_batch // size, eval_every=10**6, eval_samples=64, device="cpu",
                           threads=1, patience=10**6, adversarial=True,  # the GAN: every phase
                           # the seen term (a per-sequence input, nothing shared across ranks) puts one
                           # Gumbel near-tie in this seed's run: a token flips on summation order alone
                           # and D then differs by 5e-4 (G by 3e-6, as without it); measured 2026-12-04
                           **{"generator.seen": False})
    torch.set_num_threads(1)
    trainer = Trainer(rule, config)
    shared = torch.Generator().manual_seed(11)

    def real(n: int) -> torch.Tensor:
        full = rule.sample_checked(n * size, shared)  # (n x ranks, L): the same on every rank
        return full[rank * n:(rank + 1) * n]

    trainer.real = real
    G, generate = trainer.recipe.generator, trainer.recipe.generator.generate
    torch.manual_seed(5)  # one noise stream for all ranks (the trainer gave each its own)

    def sliced_generate(n: int, tau: float = 1.0):
        fake, generated = generate(n * size, tau)  # (n x ranks, L, V), (n x ranks, L)
        return fake[rank * n:(rank + 1) * n], generated[rank * n:(rank + 1) * n]

    G.generate = sliced_generate
    trainer.run()
    state = trainer.state_dict()  # under torchrun: checks that both ranks hold the same weights
    if rank == 0:
        torch.save({"generator": state["parts"]["generator"], "discriminator": state["parts"]["discriminator"],
                    "phase": state["parts"]["phase"]}, out)
    distributed.teardown()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
