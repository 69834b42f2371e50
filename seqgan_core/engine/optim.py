"""Adam, as ``torch.optim.Adam`` computes it, without ``torch.optim``.

Creating the first ``torch.optim`` optimiser in a process imports ``torch._dynamo`` — 1.3 s on
our 2-core machine, as long as a whole multiples5 run trains (measured with cProfile on
``seqgan train --rule multiples5``). The update below is the same algorithm (Kingma & Ba, with
torch's defaults: eps 1e-8, no weight decay, no amsgrad) on ``torch._foreach_*`` kernels, so a
short run pays only for its own steps.

>>> w = torch.nn.Parameter(torch.tensor([1.0]))
>>> opt = Adam([w], lr=0.1)
>>> (w * 2).sum().backward(); opt.step()
>>> round(w.item(), 6)  # the first Adam step moves by lr, whatever the gradient's size
0.9
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch


class Adam:
    def __init__(self, params: Iterable, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        params = list(params)
        groups = params if params and isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = [{"lr": lr, "betas": tuple(betas), "eps": eps, **g, "params": list(g["params"])}
                             for g in groups]
        self.state: dict[int, dict] = {}  # id(param) -> {"step", "exp_avg", "exp_avg_sq"}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            states = [self._state(p) for p in params]
            beta1, beta2 = group["betas"]
            step = states[0]["step"] = states[0]["step"] + 1
            for s in states[1:]:  # every parameter of a group steps together
                s["step"] = step
            exp_avgs = [s["exp_avg"] for s in states]
            exp_avg_sqs = [s["exp_avg_sq"] for s in states]
            torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)  # m = b1 m + (1 - b1) g
            torch._foreach_mul_(exp_avg_sqs, beta2)
            torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)  # v = b2 v + (1 - b2) g^2
            step_size = group["lr"] / (1 - beta1 ** step)
            denom = torch._foreach_sqrt(exp_avg_sqs)
            torch._foreach_div_(denom, math.sqrt(1 - beta2 ** step))
            torch._foreach_add_(denom, group["eps"])
            torch._foreach_addcdiv_(params, exp_avgs, denom, -step_size)  # p -= lr m^ / (sqrt(v^) + eps)

    def _state(self, p: torch.Tensor) -> dict:
        state = self.state.get(id(p))
        if state is None:
            state = self.state[id(p)] = {"step": 0, "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)}
        return state

    # -- checkpoints: plain tensors and numbers, indexed by position as torch.optim does

    def state_dict(self) -> dict:
        order = [p for g in self.param_groups for p in g["params"]]
        return {
            "state": {i: dict(self.state[id(p)]) for i, p in enumerate(order) if id(p) in self.state},
            "param_groups": [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups],
        }

    def load_state_dict(self, state: dict) -> None:
        order = [p for g in self.param_groups for p in g["params"]]
        for group, saved in zip(self.param_groups, state["param_groups"]):
            group.update({k: (tuple(v) if k == "betas" else v) for k, v in saved.items()})
        self.state = {}
        for i, s in state["state"].items():
            p = order[int(i)]
            self.state[id(p)] = {"step": int(s["step"]), "exp_avg": s["exp_avg"].to(p.device).clone(),
                                 "exp_avg_sq": s["exp_avg_sq"].to(p.device).clone()}
