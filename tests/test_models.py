"""Every generator family honours the same interface, exports, and stays small (no V x V tables)."""

import pytest
import torch

from seqgan_core import Rule
from seqgan_core.io.export import load_model, metadata, save_sampler
from seqgan_core.models import (
    AutoregressiveGenerator, GRUGenerator, MarginalsGenerator, MLPGenerator, Sampler, TransformerGenerator,
    categorical,
)
from seqgan_core.plugins.registry import DISCRIMINATORS, GENERATORS

V, L = 13, 7  # sizes no hidden width below shares, so a V x V table cannot hide
SMALL = {  # small models: every test runs in well under a second
    "mlp": MLPGenerator.Options(noise_dim=4, hidden=16),
    "gru": GRUGenerator.Options(embed=8, hidden=16),
    "lstm": GENERATORS["lstm"].Options(embed=8, hidden=16),
    "transformer": TransformerGenerator.Options(embed=16, layers=2, heads=2),
}
# variants with an option that changes every code path: (family, options)
VARIANTS = {"gru+seen": ("gru", GRUGenerator.Options(embed=8, hidden=16, seen=True))}
MODELS = [*GENERATORS, *VARIANTS]
AUTOREGRESSIVE = [name for name, family in GENERATORS.items() if issubclass(family, AutoregressiveGenerator)] + ["gru+seen"]
LOOPED = [name for name in AUTOREGRESSIVE if name != "marginals"]  # a sampling loop over positions


def make(name: str, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    family, options = VARIANTS.get(name, (name, SMALL.get(name)))
    g = GENERATORS[family](V, L, options)
    if getattr(g, "seen_gate", None) is not None:  # zero at init: give the term a size that shows
        torch.nn.init.normal_(g.seen_gate.weight, std=1.0)
        torch.nn.init.constant_(g.seen_gate.bias, -2.0)
    if isinstance(g, MarginalsGenerator):  # uniform at init: give every row a shape, and ties none
        torch.nn.init.normal_(g.logits, std=1.0)
    return g.eval()


def test_registries_and_options():
    assert set(GENERATORS) == {"marginals", "mlp", "gru", "transformer", "lstm"} and set(DISCRIMINATORS) == {"mlp", "cnn", "highway_cnn", "relgan_cnn"}
    assert set(AUTOREGRESSIVE) == {"marginals", "gru", "transformer", "gru+seen", "lstm"}
    for family in [*GENERATORS.values(), *DISCRIMINATORS.values()]:
        family.Options()  # every option has a default
        family(V, L)  # and options=None means those defaults


@pytest.mark.parametrize("name", MODELS)
def test_sample_shape_range_and_seed(name):
    g = make(name)
    torch.manual_seed(3)
    a = g.sample(50)
    assert a.dtype == torch.int64 and a.shape == (50, L)
    assert 0 <= int(a.min()) and int(a.max()) < V
    torch.manual_seed(3)
    assert torch.equal(a, g.sample(50))
    assert not torch.equal(a, g.sample(50))  # the RNG moved on


@pytest.mark.parametrize("name", GENERATORS)
def test_generate_gives_one_hots_that_carry_gradients(name):
    g = make(name).train()
    onehots, indices = g.generate(6, tau=1.0)
    assert onehots.shape == (6, L, V) and indices.shape == (6, L)
    assert torch.equal(onehots.detach(), torch.nn.functional.one_hot(indices, V).float())
    weights = torch.randn(L, V)  # an arbitrary "discriminator"
    (onehots * weights).sum().backward()
    for pname, p in g.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", LOOPED)
def test_teacher_forcing_matches_the_sampling_loop(name):
    g = make(name)
    seqs = torch.randint(V, (5, L))
    with torch.no_grad():
        parallel = g.teacher_forced_logits(seqs)  # (n, L, V)
        stepped = g.incremental_logits(seqs)  # the KV-cache / recurrent loop
    assert parallel.shape == (5, L, V)
    torch.testing.assert_close(parallel, stepped, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", AUTOREGRESSIVE)
def test_token_log_probs_agree_with_nll(name):
    g = make(name)
    seqs = torch.randint(V, (9, L))
    with torch.no_grad():
        logp = g.token_log_probs(seqs)
        assert logp.shape == (9, L) and (logp <= 0).all()
        torch.testing.assert_close(-logp.mean(), g.nll(seqs))


@pytest.mark.parametrize("name", GENERATORS)
def test_temperature_towards_zero_is_greedy(name):
    g = make(name)
    torch.manual_seed(0)
    seqs = g.sample(40, temperature=1e-4)
    if isinstance(g, AutoregressiveGenerator):
        with torch.no_grad():  # every token is the argmax given the tokens before it
            assert torch.equal(g.teacher_forced_logits(seqs).argmax(-1), seqs)
    else:
        torch.manual_seed(0)  # the same noise, then the argmax
        with torch.no_grad():
            assert torch.equal(g.logits(40).argmax(-1), seqs)


def test_categorical_temperature_flattens_and_sharpens():
    logits = torch.tensor([[2.0, 0.0, -2.0]]).expand(20_000, 3)
    torch.manual_seed(0)
    share = {t: (categorical(logits, t) == 0).float().mean().item() for t in (0.01, 1.0, 100.0)}
    assert share[0.01] == 1.0 and 0.84 < share[1.0] < 0.88 and share[100.0] < 0.36


@pytest.mark.parametrize("name", GENERATORS)
def test_no_vocabulary_squared_parameters(name):
    g = GENERATORS[name](V, L)  # default sizes
    for pname, p in g.named_parameters():
        assert sum(size == V for size in p.shape) <= 1, (pname, tuple(p.shape))


@pytest.mark.parametrize("name", DISCRIMINATORS)
def test_discriminators_read_embeddings(name):
    d = DISCRIMINATORS[name](V, L)
    seqs = torch.nn.functional.one_hot(torch.randint(V, (8, L)), V).float()
    scores = d(seqs)
    assert scores.shape[1] == 1 and scores.shape[0] in (8, 8 // d.pack if hasattr(d, "pack") else 8)
    for pname, p in d.named_parameters():
        assert sum(size == V for size in p.shape) <= 1, (pname, tuple(p.shape))
        if pname != "embed.weight":  # only the embedding sees V-wide one-hots
            assert V not in p.shape, (pname, tuple(p.shape))


def test_seen_term_can_forbid_every_repeat_and_starts_as_no_term():
    torch.manual_seed(0)
    g = GRUGenerator(V, L, GRUGenerator.Options(embed=8, hidden=16, seen=True)).eval()
    plain = GRUGenerator(V, L, GRUGenerator.Options(embed=8, hidden=16)).eval()
    plain.load_state_dict({k: v for k, v in g.state_dict().items() if not k.startswith("seen_gate")})
    seqs = torch.randint(V, (6, L))
    with torch.no_grad():
        torch.testing.assert_close(g.teacher_forced_logits(seqs), plain.teacher_forced_logits(seqs))
        torch.nn.init.constant_(g.seen_gate.bias, -1e4)  # "never a token used before"
        drawn = g.sample(200)
        straight, _ = g.generate(50)
    assert all(len(set(row)) == L for row in drawn.tolist())  # V > L: always possible
    assert all(len(set(row)) == L for row in straight.argmax(-1).tolist())


def test_seen_term_teacher_forcing_has_the_sampling_loops_gradients():
    # teacher forcing adds the term by a scatter over prefix pairs (once per distinct token), the
    # sampling loop by a dense mask: the same logits and the same gradients, repeats included
    g = make("gru+seen").train()
    seqs = torch.randint(V, (9, L))
    seqs[:, 3] = seqs[:, 1]  # a repeated token in every row
    weights = torch.randn(9, L, V, generator=torch.Generator().manual_seed(1))
    grads = []
    for logits in (g.teacher_forced_logits(seqs), g.incremental_logits(seqs)):
        grads.append(torch.autograd.grad((logits * weights).sum(), list(g.parameters())))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_transformer_with_tied_head():
    torch.manual_seed(0)
    g = TransformerGenerator(V, L, TransformerGenerator.Options(embed=16, heads=2, tie=True))
    assert g.head.weight is g.token.weight
    assert len(list(g.parameters())) == len({id(p) for p in g.parameters()})
    seqs = torch.randint(V, (3, L))
    with torch.no_grad():
        torch.testing.assert_close(g.teacher_forced_logits(seqs), g.incremental_logits(seqs), atol=1e-5, rtol=1e-4)


def _rule() -> Rule:
    return Rule(name="tiny", description="test", vocab=list(range(V)), length=L,
                sample=lambda n, gen: torch.randint(V, (n, L), generator=gen),
                is_valid=lambda s: torch.ones(len(s), dtype=torch.bool))


@pytest.mark.parametrize("fmt", ["torchscript", "export"])
@pytest.mark.parametrize("name", MODELS)
def test_export_round_trip_gives_the_eager_samples(tmp_path, name, fmt):
    g = make(name)
    model = load_model(save_sampler(g, metadata(_rule()), tmp_path / f"g.{fmt}", fmt))
    assert model.format == fmt
    for n in (1, 2, 7):
        torch.manual_seed(n)
        expected = g.sample(n)
        assert torch.equal(model.sample(n, seed=n), expected), n
        torch.manual_seed(n)
        cooler = g.sample(n, 0.5)
        assert torch.equal(model.sample(n, seed=n, temperature=0.5), cooler), n
    # the file's own temperature is back at 1.0 after a call at another one
    torch.manual_seed(0)
    expected = g.sample(3)
    assert torch.equal(model.sample(3, seed=0), expected)


def test_scripted_sampler_takes_a_temperature_argument():
    g = make("transformer")
    scripted = torch.jit.script(Sampler(g))
    torch.manual_seed(4)
    expected = g.sample(5, 0.7)
    torch.manual_seed(4)
    assert torch.equal(scripted(5, 0.7), expected)
    assert float(scripted.temperature) == 1.0


@pytest.mark.parametrize("fmt", ["torchscript", "export"])
def test_gru_dropout_trains_noisy_and_samples_and_exports_without_it(tmp_path, fmt):
    """``generator.dropout`` zeroes features while training only: teacher-forced logits differ
    between two training passes, never in eval mode, and the exported sampler (eval mode) draws
    what the eager model draws."""
    torch.manual_seed(0)
    g = GRUGenerator(V, L, GRUGenerator.Options(embed=8, hidden=16, dropout=0.5))
    seqs = torch.randint(0, V, (4, L))
    g.train()
    assert not torch.equal(g.teacher_forced_logits(seqs), g.teacher_forced_logits(seqs))
    g.eval()
    assert torch.equal(g.teacher_forced_logits(seqs), g.teacher_forced_logits(seqs))
    assert torch.allclose(g.teacher_forced_logits(seqs), g.incremental_logits(seqs), atol=1e-5)
    model = load_model(save_sampler(g, metadata(_rule()), tmp_path / f"g.{fmt}", fmt))
    torch.manual_seed(3)
    expected = g.sample(5)
    assert torch.equal(model.sample(5, seed=3), expected)


def test_marginals_learn_each_positions_own_frequencies_by_maximum_likelihood():
    """The product of marginals is what the choice test checks a rule against (choice.py): fitted
    by maximum likelihood, each row becomes its position's frequencies, however skewed."""
    torch.manual_seed(0)
    target = torch.softmax(torch.randn(L, V) * 2, dim=-1)  # (L, V): a different distribution per position
    g = MarginalsGenerator(V, L)
    opt = torch.optim.Adam(g.parameters(), lr=0.1, betas=(0.5, 0.9))
    for step in range(400):
        seqs = torch.multinomial(target, 512, replacement=True).t()  # (512, L)
        opt.zero_grad()
        g.nll(seqs).backward()
        opt.step()
    learned = g.logits.softmax(-1).detach()
    assert (learned - target).abs().sum(-1).max() / 2 < 0.05  # TV per position
    torch.manual_seed(1)
    drawn = g.sample(20_000)  # positions drawn on their own: no correlation between them
    first, second = drawn[:, 0] == drawn[:, 0].mode().values, drawn[:, 1] == drawn[:, 1].mode().values
    both = (first & second).float().mean()
    assert abs(both - first.float().mean() * second.float().mean()) < 0.01
