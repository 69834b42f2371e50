"""The tutorial as a plain script: what seqgan's `article` preset reproduces, without seqgan.

    python benchmarks/tutorial.py [--seed S] [--out generator.pt]

A GAN learns to emit ten integers in 0..99 that are all multiples of 5. Numbers are one-hot
(100-wide rows); G = Linear(100, 100) + ReLU on N(0, 1) noise, one row per number; D = Linear(100,
1) + Sigmoid; BCE; Adam (lr 0.0005) for both. Each step: D on one real sequence's ten rows
(label 1), D on ten generated rows (label 0), G through D (label 1). The distance — mean squared
remainder mod 5 of the ten generated numbers — is checked every step; training stops when it
has not improved for 800 steps (or after 10 000); the generator is saved with TorchScript and
reloaded to sample. The benchmark times this file as a whole process beside `seqgan train`.
"""

import argparse

import torch
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", default="generator.pt")
args = parser.parse_args()
torch.manual_seed(args.seed)

V, L, LR, PATIENCE, MAX_STEPS = 100, 10, 5e-4, 800, 10_000


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(V, V)

    def forward(self, noise):
        return torch.relu(self.linear(noise))

    @torch.jit.export
    def sample(self, n: int):
        return self.forward(torch.randn(n * 10, 100)).argmax(-1).view(n, 10)


G, D = Generator(), nn.Sequential(nn.Linear(V, 1), nn.Sigmoid())
g_opt, d_opt = torch.optim.Adam(G.parameters(), lr=LR), torch.optim.Adam(D.parameters(), lr=LR)
loss = nn.BCELoss()
ones, zeros = torch.ones(L, 1), torch.zeros(L, 1)
best, since_best, step = float("inf"), 0, 0
while step < MAX_STEPS and since_best < PATIENCE:
    step += 1
    real = nn.functional.one_hot(torch.randint(20, (L,)) * 5, V).float()  # ten multiples of 5
    d_opt.zero_grad()
    loss(D(real), ones).backward()
    d_opt.step()
    d_opt.zero_grad()
    loss(D(G(torch.randn(L, V)).detach()), zeros).backward()
    d_opt.step()
    g_opt.zero_grad()
    fake = G(torch.randn(L, V))
    loss(D(fake), ones).backward()
    g_opt.step()
    distance = (fake.argmax(-1) % 5).float().pow(2).mean().item()
    if distance < best:
        best, since_best = distance, 0
    else:
        since_best += 1

torch.jit.save(torch.jit.script(G), args.out)
sampler = torch.jit.load(args.out)
print(f"{step} steps, best distance {best}; a sample: {sampler.sample(1).tolist()}")
