"""``expression``: arithmetic expressions of the grammar S -> S+x | S-x | S*x | S/x | x | (S), with
an end token — up to 15 tokens, so lengths vary (1, 3, ..., 15).

Every expression is built from "x" by k steps, each one of five: append "+x", "-x", "*x", "/x", or
wrap the whole in "( )". The string determines its steps, so there are 5**k expressions of length
2k + 1 (97 656 in all). Real data draws k from 0..7 with weights 1..8 (long expressions more often,
"x" alone in 1 of 36) and then each step uniformly; ``sample`` pads with "<end>".

Which strings are expressions: "("*w, then "x", then any mix of ")" and operator-"x" pairs that
holds exactly w ")" — ``is_valid`` checks this with a five-state automaton and a bracket count,
and reads only up to the first "<end>" (the engine passes that canonical form anyway).

>>> import torch; s = sample(3, torch.Generator().manual_seed(0)); bool(is_valid(s).all())
True
>>> is_valid(encode(["((x+x)*x)-x", "x", "(x)", "x+", "x+(x)", "()", "", "x)"])).tolist()
[True, True, True, False, False, False, False, False]
>>> decode(encode(["((x+x)*x)-x"]))
['((x+x)*x)-x']
"""

import torch

from seqgan_core import Rule, hookimpl

LENGTH = 15
MAX_STEPS = (LENGTH - 1) // 2  # 7
VOCAB = ["x", "+", "-", "*", "/", "(", ")", "<end>"]
X, OPEN, CLOSE, END = 0, 5, 6, 7  # operators are 1..4
STEP_WEIGHTS = torch.arange(1.0, MAX_STEPS + 2)  # P(k steps) proportional to k + 1


def encode(texts: list[str]) -> torch.Tensor:
    """Expressions as text (one character per token) -> padded indices ``(n, 15)``."""
    return torch.tensor([[VOCAB.index(c) for c in t] + [END] * (LENGTH - len(t)) for t in texts])


def decode(seqs: torch.Tensor) -> list[str]:
    return ["".join(VOCAB[i] for i in row if i != END) for row in seqs.tolist()]


def sample(n: int, generator: torch.Generator) -> torch.Tensor:
    steps = torch.multinomial(STEP_WEIGHTS, n, replacement=True, generator=generator)  # (n,)
    choice = torch.randint(5, (n, MAX_STEPS), generator=generator)  # 0..3: operator + "x"; 4: wrap
    active = torch.arange(MAX_STEPS) < steps[:, None]  # (n, 7)
    wrap = active & (choice == 4)
    opens = wrap.sum(-1, keepdim=True)  # (n, 1): the "(" all go in front of the first "x"
    width = torch.where(wrap, 1, 2) * active  # tokens each step puts after that "x": ")" or "+x"
    start = opens + 1 + width.cumsum(-1) - width  # (n, 7): where each step's tokens go
    scratch = LENGTH  # inactive steps write to two spare columns, cut off at the end
    out = torch.full((n, LENGTH + 2), END)
    out = torch.where(torch.arange(LENGTH + 2) < opens, OPEN, out)
    out.scatter_(1, opens, X)
    out.scatter_(1, torch.where(active, start, scratch), torch.where(wrap, CLOSE, choice + 1))
    out.scatter_(1, torch.where(active & ~wrap, start + 1, scratch + 1), torch.full_like(start, X))
    return out[:, :LENGTH]


# the automaton: 0 = expects an operand ("(" or "x"), 1 = after an operand, 2 = after an operator,
# 3 = ended (absorbs everything), 4 = rejected
_NEXT = torch.full((5, len(VOCAB)), 4)
_NEXT[0, OPEN], _NEXT[0, X] = 0, 1
_NEXT[1, 1:5], _NEXT[1, CLOSE], _NEXT[1, END] = 2, 1, 3
_NEXT[2, X] = 1
_NEXT[3] = 3


def is_valid(seqs: torch.Tensor) -> torch.Tensor:
    state = torch.zeros(len(seqs), dtype=torch.long)
    for i in range(seqs.shape[1]):
        state = _NEXT[state, seqs[:, i]]
    before_end = (seqs == END).long().cumsum(-1) == 0  # (n, L)
    opens = ((seqs == OPEN) & before_end).sum(-1)
    closes = ((seqs == CLOSE) & before_end).sum(-1)
    return ((state == 1) | (state == 3)) & (opens == closes)


@hookimpl
def register_rules(register):
    register(Rule(
        name="expression",
        description="Expressions of S -> S+x | S-x | S*x | S/x | x | (S), 1 to 15 tokens, then <end>",
        vocab=VOCAB, length=LENGTH, sample=sample, is_valid=is_valid, eos="<end>",
    ))
