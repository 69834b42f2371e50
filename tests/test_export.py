import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import plain_torch, rewrite_metadata
from seqgan_core import Rule
from seqgan_core.errors import ModelFileError
from seqgan_core.io.export import FORMAT_VERSION, load_model, stored_tokens
from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.engine.presets import preset_config
from seqgan_core.io.run import save_run
from seqgan_core.engine.training import train

RULES = load_rules(get_plugin_manager(entry_points=False))
RULE = RULES["multiples5"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    result = train(RULE, preset_config("article", seed=0, max_steps=100))
    path = save_run(tmp_path_factory.mktemp("run"), result, RULE)
    return result, path


@settings(max_examples=10)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 50))
def test_exported_sampler_matches_in_process_generator(trained, seed, n):
    result, path = trained
    model = load_model(path)
    torch.manual_seed(seed)
    expected = result.generator.sample(n)
    got = model.sample(n, seed=seed)
    assert got.dtype == torch.int64 and got.shape == (n, 10)
    assert torch.equal(got, expected)


def test_plain_torch_in_fresh_process_gives_same_samples(trained, tmp_path):
    """No seqgan import: torch.jit.load + call is all a consumer needs."""
    _, path = trained
    got = plain_torch("torch.jit.load(path, map_location='cpu')", path, n=4, seed=7, cwd=tmp_path)
    assert got == load_model(path).sample(4, seed=7).tolist()


def test_metadata_travels_inside_the_file(trained):
    _, path = trained
    model = load_model(path)
    assert model.meta["rule"] == "multiples5" and model.meta["format_version"] == FORMAT_VERSION
    assert model.vocabulary.tokens == list(range(100)) and model.length == 10
    config = json.loads((path.parent / "config.json").read_text())
    assert config["rule"] == "multiples5" and config["preset"] == "article" and config["steps"] == 100


def test_bad_model_files(trained, tmp_path):
    _, path = trained
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "missing.pt")
    with pytest.raises(ModelFileError, match="is a directory"):
        load_model(tmp_path)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ModelFileError, match="truncated or not a torch archive"):
        load_model(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(foreign))
    with pytest.raises(ModelFileError, match="without seqgan metadata"):
        load_model(foreign)


def test_newer_format_version_is_refused(trained, tmp_path):
    _, path = trained
    newer = rewrite_metadata(path, tmp_path / "newer.pt", format_version=FORMAT_VERSION + 1)
    with pytest.raises(ModelFileError, match="newer than this seqgan supports"):
        load_model(newer)


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    result, _ = trained
    return result, save_run(tmp_path_factory.mktemp("run_pt2"), result, RULE, fmt="export")


def test_torch_export_format_round_trips(exported):
    result, path = exported
    assert path.name == "generator.pt2"
    model = load_model(path)
    assert model.format == "export" and model.meta["rule"] == "multiples5"
    for n in (1, 3, 64):
        torch.manual_seed(n)
        expected = result.generator.sample(n)
        assert torch.equal(model.sample(n, seed=n), expected)


def test_torch_export_loads_with_plain_torch(exported, tmp_path):
    _, path = exported
    got = plain_torch("torch.export.load(path).module()", path, n=5, seed=7, cwd=tmp_path)
    assert got == load_model(path).sample(5, seed=7).tolist()


@pytest.mark.parametrize("fmt", ["torchscript", "export"])
def test_autoregressive_generator_exports_as_a_sampler(tmp_path, fmt):
    rule = load_rules(get_plugin_manager(entry_points=False))["palindrome"]
    result = train(rule, preset_config("autoregressive", max_steps=20, pretrain_steps=10, d_warmup=5, eval_every=10))
    model = load_model(save_run(tmp_path, result, rule, fmt=fmt))
    for n in (2, 7):
        torch.manual_seed(n)
        expected = result.generator.sample(n)
        assert torch.equal(model.sample(n, seed=n), expected)
    assert model.sample(1, seed=0).shape == (1, 10)
    assert model.vocabulary.decode(model.sample(1, seed=0))[0][0] in list("0123456789")


@pytest.mark.parametrize("tokens, expected", [
    ([0, "a", None, 1.5], [0, "a", None, 1.5]),  # JSON keeps these as they are
    ([(0, 0), (0, 1)], ["(0, 0)", "(0, 1)"]),  # tuples would come back as (unhashable) lists
    ([1, "1", b"x"], ["1", "'1'", "b'x'"]),  # str() collides, repr() does not
])
def test_tokens_survive_the_model_file(tokens, expected):
    assert stored_tokens(tokens)[0] == expected


def test_a_rule_with_tuple_tokens_saves_a_loadable_model(tmp_path):
    rule = Rule(name="pairs", description="", vocab=[(0, 0), (0, 1), (1, 0)], length=2,
                sample=lambda n, g: torch.randint(3, (n, 2), generator=g),
                is_valid=lambda s: torch.ones(len(s), dtype=torch.bool))
    model = load_model(save_run(tmp_path, train(rule, preset_config("independent", max_steps=2)), rule))
    assert model.vocabulary.tokens == ["(0, 0)", "(0, 1)", "(1, 0)"] and model.meta["tokens_are_strings"]


def test_exported_gru_samples_a_last_chunk_of_one(tmp_path, monkeypatch):
    """-n 65537 left a chunk of 1, which a torch.export GRU program refuses."""
    from seqgan_core.io import export

    monkeypatch.setattr(export, "SAMPLE_CHUNK", 4)
    rule = RULES["palindrome"]
    result = train(rule, preset_config("autoregressive", max_steps=2, pretrain_steps=1, d_warmup=0, batch_size=8))
    model = load_model(save_run(tmp_path, result, rule, fmt="export"))
    assert model.sample(5, seed=0).shape == (5, 10)
