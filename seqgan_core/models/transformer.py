"""A small autoregressive transformer (nanoGPT-style) with a KV cache for its sampling loops."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from seqgan_core.models.base import AutoregressiveGenerator


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention. ``forward`` is one causal pass over a whole sequence; ``step``
    attends from one new position to the cached keys and values of every earlier one."""

    def __init__(self, embed: int, heads: int):
        super().__init__()
        assert embed % heads == 0, f"embed {embed} must be a multiple of heads {heads}"
        self.heads = heads
        self.qkv = nn.Linear(embed, 3 * embed)
        self.proj = nn.Linear(embed, embed)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n, t, e = x.shape
        q, k, v = self.qkv(x).split(e, dim=2)  # 3 x (n, T, E)
        shape = [n, t, self.heads, e // self.heads]
        return (q.view(shape).transpose(1, 2), k.view(shape).transpose(1, 2),
                v.view(shape).transpose(1, 2))  # 3 x (n, heads, T, E / heads)

    def _merge(self, y: torch.Tensor) -> torch.Tensor:
        n, _, t, _ = y.shape
        return self.proj(y.transpose(1, 2).reshape(n, t, -1))  # (n, heads, T, d) -> (n, T, E)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self._split(x)
        return self._merge(F.scaled_dot_product_attention(q, k, v, is_causal=True))

    def step(self, x: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x`` ``(n, 1, E)`` and caches ``(n, heads, t, d)`` -> output ``(n, 1, E)`` and the
        caches with this position appended ``(n, heads, t + 1, d)``. Appending (not writing in
        place) keeps autograd valid in ``generate``."""
        q, k, v = self._split(x)
        k, v = torch.cat([k_cache, k], dim=2), torch.cat([v_cache, v], dim=2)
        # one query sees every cached position: no mask needed
        return self._merge(F.scaled_dot_product_attention(q, k, v)), k, v


class Block(nn.Module):
    """Pre-LayerNorm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, embed: int, heads: int, mlp_ratio: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(embed)
        self.attn = CausalSelfAttention(embed, heads)
        self.ln2 = nn.LayerNorm(embed)
        self.mlp = nn.Sequential(nn.Linear(embed, mlp_ratio * embed), nn.GELU(),
                                 nn.Linear(mlp_ratio * embed, embed))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))  # (n, T, E)
        return x + self.mlp(self.ln2(x))

    def step(self, x: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        y, k, v = self.attn.step(self.ln1(x), k_cache, v_cache)
        x = x + y  # (n, 1, E)
        return x + self.mlp(self.ln2(x)), k, v


class TransformerGenerator(AutoregressiveGenerator):
    """Autoregressive transformer: token + position embeddings, a learned start vector, ``layers``
    pre-LN blocks of causal self-attention + MLP, a final LayerNorm and a ``Linear(E, V)`` head.

    Position t reads the token at t - 1 (the start vector at t = 0) and scores token t.
    ``teacher_forced_logits`` is one parallel causal pass; ``generate`` and ``sample`` step one
    position at a time with a KV cache (a list of per-layer key/value tensors), so each step
    costs one position, not the whole prefix. Cost per sequence ~ L * (layers * E^2 + E * V) plus
    attention's L^2 * E.
    """

    name = "transformer"

    @dataclass
    class Options:
        embed: int = 64  # E: width of the residual stream and of the embeddings
        layers: int = 2  # transformer blocks
        heads: int = 4  # attention heads; must divide embed
        mlp_ratio: int = 4  # the MLP of each block is E -> mlp_ratio * E -> E
        tie: bool = False  # the output head reuses the token embedding (fewer parameters at large V)

    def __init__(self, vocab_size: int, length: int, options: TransformerGenerator.Options | None = None):
        super().__init__()
        o = options or self.Options()
        self.vocab_size, self.length = vocab_size, length
        self.layers, self.heads, self.head_dim = o.layers, o.heads, o.embed // o.heads
        self.token = nn.Embedding(vocab_size, o.embed)  # (V, E)
        self.position = nn.Parameter(torch.zeros(length, o.embed))  # (L, E)
        self.start = nn.Parameter(torch.zeros(o.embed))  # (E,): the input before token 0
        self.blocks = nn.ModuleList([Block(o.embed, o.heads, o.mlp_ratio) for _ in range(o.layers)])
        self.ln_f = nn.LayerNorm(o.embed)
        self.head = nn.Linear(o.embed, vocab_size)
        # nanoGPT's initialisation: small normal weights, residual projections scaled by depth
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
                if isinstance(module, nn.Linear) and module.bias is not None:
                    nn.init.zeros_(module.bias)
        for block in self.blocks:
            for proj in (block.attn.proj, block.mlp[2]):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(2 * o.layers))
        nn.init.normal_(self.position, std=0.02)
        nn.init.normal_(self.start, std=0.02)
        if o.tie:
            self.head.weight = self.token.weight

    def head_parameters(self) -> list[nn.Parameter]:
        """The output head's bias and (untied) weight, which pretraining may move with a larger
        learning rate."""
        if self.head.weight is self.token.weight:
            return [self.head.bias]
        return list(self.head.parameters())

    def teacher_forced_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        """Real ``seqs`` ``(n, L)`` -> next-token logits ``(n, L, V)``, one causal pass."""
        n, length = seqs.shape
        first = self.start.view(1, 1, -1).expand(n, 1, self.start.shape[0])  # (n, 1, E)
        x = torch.cat([first, self.token(seqs[:, :-1])], dim=1) + self.position[:length]  # (n, L, E)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))  # (n, L, V)

    def _empty_cache(self, n: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        empty = torch.zeros(n, self.heads, 0, self.head_dim, device=self.start.device)  # (n, heads, 0, d)
        return [empty] * self.layers, [empty] * self.layers

    def _step(self, inp: torch.Tensor, t: int, ks: list[torch.Tensor], vs: list[torch.Tensor]
              ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """Position ``t``: input embedding ``(n, E)`` and the caches of positions < t -> logits
        ``(n, V)`` and the caches of positions <= t."""
        x = (inp + self.position[t]).unsqueeze(1)  # (n, 1, E)
        new_ks: list[torch.Tensor] = []
        new_vs: list[torch.Tensor] = []
        for i, block in enumerate(self.blocks):
            x, k, v = block.step(x, ks[i], vs[i])
            new_ks.append(k)
            new_vs.append(v)
        return self.head(self.ln_f(x[:, 0])), new_ks, new_vs

    def _begin(self, n: int) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """(input embedding (n, E): the start vector, per-layer key and value caches of no position)."""
        ks, vs = self._empty_cache(n)
        return self.start.unsqueeze(0).expand(n, self.start.shape[0]), ks, vs

    def _advance(self, state: tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]], t: int
                 ) -> tuple[torch.Tensor, tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]]:
        inp, ks, vs = state
        logits, ks, vs = self._step(inp, t, ks, vs)
        return logits, (inp, ks, vs)

    def _feed(self, state: tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]], index: torch.Tensor
              ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        _, ks, vs = state
        return self.token(index), ks, vs

    def _feed_soft(self, state: tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]], onehot: torch.Tensor
                   ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        _, ks, vs = state
        return onehot @ self.token.weight, ks, vs  # (n, E): the lookup, with gradients to the one-hots
