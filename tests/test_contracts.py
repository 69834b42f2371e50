"""The contracts are classes: ABCs refuse what is incomplete, every registered thing satisfies its
base, rollouts keep their prefixes, and the registries name the plugin at fault."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from seqgan_core.engine.presets import PRESETS, Preset, preset_config
from seqgan_core.engine.recipes import RECIPES, MaximumLikelihoodPhase, Recipe
from seqgan_core.engine.training import Trainer
from seqgan_core.errors import PluginError, SeqganError
from seqgan_core.models import AutoregressiveGenerator, Discriminator, Generator, MarginalsGenerator
from seqgan_core.plugins import registry
from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.plugins.registry import DISCRIMINATORS, GENERATORS
from seqgan_core.runtime.runtime import STREAMS, Runtime

PACKAGE = Path(__file__).resolve().parent.parent / "seqgan_core"
V, L = 11, 6
RULES = load_rules(get_plugin_manager(entry_points=False))


def test_abcs_refuse_incomplete_subclasses():
    class NoSample(Generator):
        def generate(self, n, tau=1.0):
            raise NotImplementedError

    class NoSteps(AutoregressiveGenerator):
        def teacher_forced_logits(self, seqs):
            raise NotImplementedError

    class NoForward(Discriminator):
        pass

    class NoPhases(Recipe):
        @staticmethod
        def build_generator(vocab_size, length, options):
            raise NotImplementedError

    for cls, missing in [(NoSample, "sample"), (NoSteps, "_advance"), (NoForward, "forward"), (NoPhases, "build_phases")]:
        with pytest.raises(TypeError, match=missing):
            cls.__new__(cls) if issubclass(cls, Recipe) else cls()


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_every_registered_generator_satisfies_its_base(name):
    family = GENERATORS[name]
    assert issubclass(family, Generator) and family.name == name and GENERATORS.providers[name]
    torch.manual_seed(0)
    g = family.from_options(V, L)
    onehots, indices = g.generate(4)
    assert onehots.shape == (4, L, V) and indices.shape == (4, L)
    assert torch.equal(onehots.argmax(-1), indices)
    assert g.sample(5).shape == (5, L)
    if isinstance(g, AutoregressiveGenerator):
        seqs = g.sample(3)
        assert torch.allclose(g.token_log_probs(seqs).mean(), -g.nll(seqs), atol=1e-5)
        assert torch.allclose(g.incremental_logits(seqs), g.teacher_forced_logits(seqs), atol=1e-5)


def test_every_registered_discriminator_and_recipe_satisfies_its_base():
    assert all(issubclass(d, Discriminator) and d.name == n for n, d in DISCRIMINATORS.items())
    assert all(issubclass(r, Recipe) and r.name == n for n, r in RECIPES.items())
    assert all(isinstance(p, Preset) and p.name == n for n, p in PRESETS.items())


@pytest.mark.parametrize("name", [n for n in sorted(GENERATORS) if issubclass(GENERATORS[n], AutoregressiveGenerator)])
def test_rollout_keeps_the_prefix_and_is_reproducible(name):
    torch.manual_seed(0)
    g = GENERATORS[name].from_options(V, L)
    prefix = torch.randint(0, V, (8, 2))
    done = g.rollout(prefix, generator=torch.Generator().manual_seed(5))
    assert done.shape == (8, L) and done.dtype == torch.int64 and torch.equal(done[:, :2], prefix)
    assert ((0 <= done) & (done < V)).all()
    state = torch.get_rng_state()
    again = g.rollout(prefix, generator=torch.Generator().manual_seed(5))
    assert torch.equal(done, again) and torch.equal(torch.get_rng_state(), state)  # the global RNG is untouched
    other = g.rollout(prefix, generator=torch.Generator().manual_seed(6))
    assert not torch.equal(done, other)
    assert g.rollout(prefix, length=4).shape == (8, 4)
    assert torch.equal(g.rollout(done), done)  # a whole sequence is kept as it is
    with pytest.raises(ValueError, match="rollout needs"):
        g.rollout(torch.zeros(2, L + 1, dtype=torch.long))


def _plugin(tmp_path, monkeypatch, name: str, body: str) -> str:
    (tmp_path / f"{name}.py").write_text("from seqgan_core.plugins.hookspecs import hookimpl\n"
                                         "from seqgan_core.models import MarginalsGenerator\n" + body)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_a_hook_with_a_wrong_signature_is_refused_naming_the_plugin(tmp_path, monkeypatch):
    name = _plugin(tmp_path, monkeypatch, "contracts_bad_hook",
                   "@hookimpl\ndef register_generators(regster):\n    pass\n")
    with pytest.raises(PluginError) as e:
        get_plugin_manager([name], entry_points=False)
    assert "contracts_bad_hook" in str(e.value) and "regster" in str(e.value) and "\n" not in str(e.value)


def test_a_duplicate_generator_name_names_both_plugins(tmp_path, monkeypatch):
    name = _plugin(tmp_path, monkeypatch, "contracts_dup",
                   "class Again(MarginalsGenerator):\n    name = 'gru'\n\n"
                   "@hookimpl\ndef register_generators(register):\n    register(Again)\n")
    pm = get_plugin_manager([name], entry_points=False)
    items, _ = registry.collect(pm, "register_generators", "generator", GENERATORS.check)
    assert "marginals" in items and not isinstance(items["marginals"], registry.Ambiguous)  # the rest still works
    with pytest.raises(PluginError, match="generator 'gru' is registered twice: by plugin "
                                          "'seqgan_core.engine.builtins' and by plugin 'contracts_dup'"):
        registry._usable(items["gru"])  # an error when the name is used, not before


def test_a_broken_generator_is_refused_naming_the_plugin(tmp_path, monkeypatch):
    name = _plugin(tmp_path, monkeypatch, "contracts_half",
                   "from seqgan_core.models import AutoregressiveGenerator\n"
                   "class Half(AutoregressiveGenerator):\n    name = 'half'\n\n"
                   "@hookimpl\ndef register_generators(register):\n    register(Half)\n")
    pm = get_plugin_manager([name], entry_points=False)
    with pytest.raises(PluginError, match="plugin 'contracts_half' registered a broken generator: generator Half "
                                          "does not implement _advance"):
        registry.collect(pm, "register_generators", "generator", GENERATORS.check)


def test_plugins_fill_the_registries_and_unknown_names_list_what_exists(tmp_path, monkeypatch):
    name = _plugin(tmp_path, monkeypatch, "contracts_extra",
                   "class Table(MarginalsGenerator):\n    name = 'table'\n\n"
                   "@hookimpl\ndef register_generators(register):\n    register(Table)\n")
    registry.use(get_plugin_manager([name], entry_points=False))
    try:
        assert GENERATORS.providers["table"] == "contracts_extra" and "table" in GENERATORS
        config = preset_config("independent", generator="table", max_steps=20, eval_every=10)
        assert type(Trainer(RULES["multiples5"], config).recipe.generator).__name__ == "Table"
    finally:
        registry.use(None)
    assert "table" not in GENERATORS
    with pytest.raises(SeqganError, match=r"^unknown generator 'nope'; available generators: gru, lstm, marginals, mlp, "
                                          r"transformer$"):
        GENERATORS.lookup("nope")


@dataclass
class _LikelihoodOnlyOptions:
    batch_size: int = 32  # sequences per step

    def check(self) -> None:
        pass


class _LikelihoodOnly(Recipe):
    """A recipe of one borrowed phase: what the trainer needs is the Recipe interface alone."""

    name = "likelihood-only"
    Options = _LikelihoodOnlyOptions

    @staticmethod
    def build_generator(vocab_size, length, options):
        return MarginalsGenerator(vocab_size, length)

    def __init__(self, rule, options, runtime):
        super().__init__(rule, options, runtime)
        self._generator = self.build_generator(len(rule.vocabulary), rule.length, options).to(runtime.device)
        self.opt = torch.optim.Adam(self._generator.parameters(), lr=0.1)
        self._start_phases()

    @property
    def generator(self):
        return self._generator

    @property
    def batch_size(self):
        return self.options.batch_size

    def build_phases(self):
        return [MaximumLikelihoodPhase(self.generator, self.opt, 40, self.batch_size, self.runtime)]

    def modules(self):
        return {"generator": self.generator, "opt": self.opt}


def test_any_recipe_runs_the_maximum_likelihood_phase(monkeypatch):
    monkeypatch.setitem(RECIPES, "likelihood-only", _LikelihoodOnly)
    monkeypatch.setitem(PRESETS, "likelihood-only", Preset("likelihood-only", "", run=dict(
        recipe="likelihood-only", max_steps=100, eval_every=20, eval_samples=200), options={}))
    result = Trainer(RULES["multiples5"], preset_config("likelihood-only")).run()
    assert result.stop_reason == "budget" and result.steps == 40
    assert {row["phase"] for row in result.history} == {"mle"} and "nll" in result.history[-1]
    assert result.history[-1]["nll"] < result.history[0]["nll"]


def test_runtime_streams_are_distinct_and_per_rank():
    alone, rank1 = Runtime(torch.device("cpu"), seed=7), Runtime(torch.device("cpu"), seed=7, rank=1, world_size=2)
    seeds = [alone.seed_for(s) for s in STREAMS if s != "rank"]
    assert len(set(seeds)) == len(seeds) and alone.seed_for("noise") == 7
    assert rank1.seed_for("data") == alone.seed_for("data") + STREAMS["rank"]
    assert rank1.seed_for("heldout") == alone.seed_for("heldout")  # shared by every rank
    assert alone.is_main and not rank1.is_main
    with pytest.raises(KeyError, match="unknown random stream"):
        alone.seed_for("nope")


def test_runtime_step_is_a_plain_update_alone():
    torch.manual_seed(0)
    a = torch.nn.Linear(3, 1)
    b = torch.nn.Linear(3, 1)
    b.load_state_dict(a.state_dict())
    x = torch.randn(5, 3)
    opt_a, opt_b = torch.optim.SGD(a.parameters(), lr=0.1), torch.optim.SGD(b.parameters(), lr=0.1)
    Runtime(torch.device("cpu")).step(a(x).sum(), opt_a, a)
    opt_b.zero_grad()
    b(x).sum().backward()
    opt_b.step()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_no_contract_is_read_through_a_getattr_default():
    pattern = re.compile(r"getattr\([^)]*\"(autoregressive|data_parallel|finite_data|head_parameters|pack)\"")
    offenders = [f"{p.relative_to(PACKAGE)}:{i}" for p in PACKAGE.rglob("*.py")
                 for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []


def test_recipes_never_call_a_collective():
    recipes = PACKAGE / "engine" / "recipes"
    assert not [p.name for p in recipes.glob("*.py") if "distributed" in p.read_text()]
