"""CPPNs (notebook 06): rendering, genomes and their JSON, the operators, the breeder widget."""

import colorsys
import json

import numpy as np
import pytest

from coursekit.models import cppn as models
from coursekit.topics import cppn as topic
from coursekit.topics.cppn_breeder import Breeder


@pytest.fixture
def dense():
    return models.random_cppn(np.random.default_rng(0), hidden=(16, 16), z_dim=4, channels=3)


def colour_genome(seed=0, hidden=3):
    tracker = models.InnovationTracker()
    return models.random_genome(tracker, np.random.default_rng(seed), hidden_nodes=hidden), tracker


# ----------------------------------------------------------------------------- rendering


@pytest.mark.parametrize("width,height,k", [(16, 16, 4), (24, 8, 3), (10, 30, 5)])
def test_low_resolution_equals_high_resolution_subsampled(dense, width, height, k):
    z = np.linspace(-1, 1, 4)
    fn = lambda x, y, d: dense(x, y, d, z)  # noqa: E731
    low = topic.render(fn, width, height)
    high = topic.render(fn, width * k, height * k)
    assert high.shape == (height * k, width * k, 3)
    np.testing.assert_allclose(low, high[::k, ::k], atol=1e-5)


def test_coordinates_of_subsampled_pixels_are_identical():
    for n, k in ((64, 16), (96, 8), (7, 3)):
        assert np.array_equal(topic.axis(n, -1.5, 1.5), topic.axis(n * k, -1.5, 1.5)[::k])


def test_tiles_and_threads_do_not_change_the_image(dense):
    fn = lambda x, y, d: dense(x, y, d)  # noqa: E731
    whole = topic.render(fn, 50, 40, tile_pixels=50 * 40, workers=1)
    for tile, workers in ((1, 2), (120, 2), (777, 3), (10**6, 2)):
        np.testing.assert_allclose(topic.render(fn, 50, 40, tile_pixels=tile, workers=workers),
                                   whole, atol=1e-5)


def test_render_calls_the_network_on_tiles_not_pixels():
    calls = []

    def fn(x, y, d):
        calls.append(x.size)
        return x[:, None]

    topic.render(fn, 64, 64, tile_pixels=1024, workers=1)
    assert calls == [1024] * 4  # four tiles of 16 whole rows, never one pixel at a time


def test_d_is_the_distance_from_the_centre():
    x, y, d = topic.coordinates(9, 5)
    np.testing.assert_allclose(d, np.hypot(x, y), rtol=1e-6)
    assert x.shape == (5, 9) and y.min() == -1.0 and x.min() < -1.0  # wide: x reaches further


def test_render_rejects_bad_input():
    with pytest.raises(topic.CPPNError, match="width must be a positive whole number"):
        topic.render(lambda x, y, d: x, 0, 5)
    with pytest.raises(topic.CPPNError, match=r"must return shape \(n, channels\)"):
        topic.render(lambda x, y, d: x[:3], 8, 8)
    with pytest.raises(topic.CPPNError, match="Unknown activation 'swish'.*tanh"):
        models.random_cppn(np.random.default_rng(0), act="swish")


def test_dense_cppn_checks_z_and_folds_it_exactly(dense):
    x, y, d = (a.ravel() for a in topic.coordinates(8, 8))
    with pytest.raises(topic.CPPNError, match=r"z must have shape \(4,\)"):
        dense(x, y, d, np.zeros(5))
    z = np.array([0.3, -1.0, 2.0, 0.5], np.float32)
    inputs = np.concatenate([np.stack([x, y, d], 1), np.tile(z, (len(x), 1))], 1)
    h = inputs @ dense.weights[0] + dense.biases[0]
    for w, b in zip(dense.weights[1:], dense.biases[1:], strict=True):
        h = np.tanh(h) @ w + b
    np.testing.assert_allclose(dense(x, y, d, z), 1 / (1 + np.exp(-h)), atol=1e-5)


def test_activations_match_their_definitions():
    v = np.linspace(-3, 3, 101, dtype=np.float32)
    np.testing.assert_allclose(topic.activation("bipolar_sigmoid")(v),
                               2 / (1 + np.exp(-topic.ANJI_SLOPE * v)) - 1, atol=1e-6)
    np.testing.assert_allclose(topic.activation("gaussian")(v),
                               np.exp(-topic.ANJI_SLOPE * v * v), atol=1e-6)
    assert set(topic.EVOLVED_ACTIVATIONS) <= set(topic.ACTIVATIONS)
    with np.errstate(all="raise"):  # no overflow for large inputs
        assert topic.activation("bipolar_sigmoid")(np.float32([1e4, -1e4])).tolist() == [1, -1]


def test_hsb_matches_colorsys_and_picbreeder_clamps():
    rng = np.random.default_rng(1)
    h, s, v = rng.uniform(-2, 2, 200), rng.uniform(0, 1, 200), rng.uniform(0, 1, 200)
    ours = topic.hsb_to_rgb(h, s, v)
    expected = np.array([colorsys.hsv_to_rgb(hh % 1.0, ss, vv) for hh, ss, vv in zip(h, s, v,
                                                                                    strict=True)])
    np.testing.assert_allclose(ours, expected, atol=1e-5)
    # saturation clamped to [0, 1], brightness |b| clamped: (hue 0, s 5, b -0.5) is half red
    np.testing.assert_allclose(topic.outputs_to_rgb(np.array([[0.0, 5.0, -0.5]])),
                               [[0.5, 0.0, 0.0]], atol=1e-6)
    with pytest.raises(topic.CPPNError, match="expected 3"):
        topic.outputs_to_rgb(np.zeros((4, 2)))


def test_gif_round_trip(tmp_path):
    import imageio.v3 as iio

    frames = np.random.default_rng(0).uniform(size=(5, 12, 10, 3))
    path = topic.save_gif(frames, tmp_path / "a" / "z.gif")
    assert iio.imread(path, index=None).shape[:3] == (5, 12, 10)


# ----------------------------------------------------------------------------- genomes


def test_genome_json_round_trip_renders_the_same():
    genome, _ = colour_genome(3)
    text = genome.to_json()
    again = topic.genome_from_json(text)
    assert again.to_dict() == genome.to_dict()
    assert np.array_equal(topic.render_genome(genome, 24), topic.render_genome(again, 24))
    assert json.loads(text)["format"] == "coursekit-cppn-genome"


def _broken(mutate_dict):
    genome, _ = colour_genome(4)
    data = genome.to_dict()
    mutate_dict(data)
    return json.dumps(data)


@pytest.mark.parametrize("text,message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not a CPPN genome"),
    (_broken(lambda d: d.update(version=7)), "version 7 is not supported"),
    (_broken(lambda d: d["nodes"][5].update(activation="gausian")),
     "nodes\\[5\\]: unknown activation 'gausian'"),
    (_broken(lambda d: d["nodes"][5].pop("kind")), "nodes\\[5\\] has no 'kind' field"),
    (_broken(lambda d: d["nodes"][5].update(kind="hiden")), "kind 'hiden' is not one of"),
    (_broken(lambda d: d["nodes"][6].update(id=0)), "node id 0 appears twice"),
    (_broken(lambda d: d["nodes"].pop(0)), "input nodes must be"),
    (_broken(lambda d: d["nodes"][4].update(label="red")), "output nodes must be"),
    (_broken(lambda d: d["connections"][0].update(weight="big")), "'weight' must be a finite"),
    (_broken(lambda d: d["connections"][0].update(weight=True)), "'weight' must be a finite"),
    (_broken(lambda d: d["connections"][0].update(enabled=1)), "'enabled' must be a finite bool"),
    (_broken(lambda d: d["connections"][0].update(target=99)), "target node 99 does not exist"),
    (_broken(lambda d: d["connections"][0].update(target=1)), "is an input node"),
    (_broken(lambda d: d["connections"][1].update(innovation=0)),
     "innovation number 0 appears twice"),
    (_broken(lambda d: d["nodes"].pop()), "(does not exist|output nodes must be)"),
])
def test_bad_genome_json_is_a_clear_error(text, message):
    with pytest.raises(topic.GenomeError, match=message):
        topic.genome_from_json(text)


def test_a_cycle_is_rejected():
    genome, tracker = colour_genome(5)
    hidden = genome.ids("hidden")
    a, b = hidden[0], hidden[1]
    data = genome.to_dict()
    data["connections"] += [
        {"innovation": 900, "source": a, "target": b, "weight": 1.0, "enabled": True},
        {"innovation": 901, "source": b, "target": a, "weight": 1.0, "enabled": True}]
    with pytest.raises(topic.GenomeError, match="cycle"):
        topic.genome_from_dict(data)


def test_adopt_renumbers_into_the_session_and_keeps_the_image():
    genome, _ = colour_genome(6)
    session = models.InnovationTracker()
    for _ in range(5):  # the session has its own history already
        models.random_genome(session, np.random.default_rng(9))
    adopted = session.adopt(topic.genome_from_json(genome.to_json()))
    for number, c in adopted.connections.items():
        assert session.edges[c.source, c.target] == number
    assert np.array_equal(topic.render_genome(genome, 16), topic.render_genome(adopted, 16))
    grey = models.InnovationTracker(topic.GREY_OUTPUTS)
    with pytest.raises(topic.CPPNError, match="outputs"):
        grey.adopt(genome)


# ----------------------------------------------------------------------------- operators


def test_mutation_odds_are_picbreeders():
    rng = np.random.default_rng(0)
    n = 21_000
    names = [models.choose_mutation(rng) for _ in range(n)]
    total = sum(models.MUTATION_WEIGHTS.values())
    assert models.MUTATION_WEIGHTS == {"change_weights": 10, "add_connection": 6, "add_node": 4,
                                  "change_activation": 1}
    for name, weight in models.MUTATION_WEIGHTS.items():
        p = weight / total
        assert abs(names.count(name) / n - p) < 4 * np.sqrt(p * (1 - p) / n), name


def test_each_child_gets_exactly_one_mutation():
    genome, tracker = colour_genome(7)
    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(200):
        child, name = models.mutate(genome, rng, 1.0, tracker)
        seen.add(name)
        child.order()
        weights = sum(child.connections[i].weight != c.weight
                      for i, c in genome.connections.items())
        acts = sum(child.nodes[i].activation != n.activation for i, n in genome.nodes.items())
        extra_nodes = len(child.nodes) - len(genome.nodes)
        extra_edges = len(child.connections) - len(genome.connections)
        signature = {"change_weights": (len(genome.connections), 0, 0, 0),
                     "add_connection": (0, 0, 0, 1), "add_node": (0, 0, 1, 2),
                     "change_activation": (0, 1, 0, 0)}[name]
        assert (weights, acts, extra_nodes, extra_edges) == signature, name
    assert seen == set(models.MUTATION_WEIGHTS)
    assert all(a in topic.EVOLVED_ACTIVATIONS for a in
               (n.activation for n in genome.nodes.values() if n.kind != "input"))


def test_mutation_strength_scales_weight_changes():
    genome, tracker = colour_genome(8)
    spread = {}
    for strength in (0.1, 2.0):
        child = genome.copy()
        models.change_weights(child, np.random.default_rng(0), strength, tracker)
        spread[strength] = np.std([child.connections[i].weight - c.weight
                                   for i, c in genome.connections.items()])
    assert spread[2.0] == pytest.approx(20 * spread[0.1], rel=1e-6)


def test_add_connection_never_makes_a_cycle_or_a_duplicate():
    genome, tracker = colour_genome(9, hidden=6)
    rng = np.random.default_rng(2)
    while models.add_connection(genome, rng, 1.0, tracker):
        genome.order()
    pairs = [(c.source, c.target) for c in genome.connections.values()]
    assert len(pairs) == len(set(pairs))
    assert not models.add_connection(genome, rng, 1.0, tracker)  # nothing left to connect


def test_innovation_numbers_are_shared_across_genomes():
    tracker = models.InnovationTracker()
    a = models.minimal_genome(tracker, np.random.default_rng(0))
    b = models.minimal_genome(tracker, np.random.default_rng(1))
    assert set(a.connections) == set(b.connections)
    edge = next(iter(a.connections.values()))
    a2, b2 = a.copy(), b.copy()
    for g in (a2, b2):  # the same split in two genomes: same node id, same numbers
        for c in g.connections.values():
            c.enabled = c.innovation == edge.innovation
        models.add_node(g, np.random.default_rng(3), 1.0, tracker)
    assert set(a2.connections) == set(b2.connections) and set(a2.nodes) == set(b2.nodes)


def test_crossover_aligns_genes_by_innovation_number():
    tracker = models.InnovationTracker()
    rng = np.random.default_rng(4)
    ancestor = models.random_genome(tracker, rng)
    a, b = ancestor.copy(), ancestor.copy()
    models.change_weights(a, rng, 1.0, tracker)
    models.change_weights(b, rng, 1.0, tracker)
    models.add_node(a, rng, 1.0, tracker)
    models.add_node(b, rng, 1.0, tracker)
    matching = set(a.connections) & set(b.connections)
    only_b = set(b.connections) - set(a.connections)
    assert matching and only_b
    from_b, disabled_mixed, n = 0, [], 400
    for _ in range(n):
        child = models.crossover(a, b, rng)
        child.order()
        assert set(child.connections) == set(a.connections)
        for i in matching:
            gene = child.connections[i]
            assert (gene.source, gene.target) == (a.connections[i].source, a.connections[i].target)
            assert gene.weight in (a.connections[i].weight, b.connections[i].weight)
            if a.connections[i].enabled != b.connections[i].enabled:
                disabled_mixed.append(not gene.enabled)
        probe = min(matching)
        from_b += child.connections[probe].weight == b.connections[probe].weight
    assert abs(from_b / n - 0.5) < 0.1
    assert disabled_mixed and abs(np.mean(disabled_mixed) - 0.75) < 0.1


def test_breed_uses_crossover_only_with_several_parents():
    genome, tracker = colour_genome(10)
    rng = np.random.default_rng(5)
    children = models.breed([genome], 15, 1.0, rng, tracker)
    assert len(children) == 15 and all(c is not genome for c in children)
    other = models.mutate(genome, rng, 1.0, tracker)[0]
    mixed = models.breed([genome, other], 15, 1.0, rng, tracker)
    for child in mixed:
        child.order()


# ----------------------------------------------------------------------------- evolution


def test_r_squared_and_novelty():
    target = np.random.default_rng(0).uniform(size=(8, 8))
    flat = np.full((1, 8, 8), target.mean())
    assert models.r_squared(target[None], target)[0] == pytest.approx(1.0)
    assert models.r_squared(flat, target)[0] == pytest.approx(0.0, abs=1e-9)
    novelty = models.NoveltyScore(k=2, archive_per_generation=1)
    images = np.stack([np.zeros((4, 4)), np.zeros((4, 4)) + 0.01, np.ones((4, 4))])
    scores = novelty(images)
    assert scores.argmax() == 2 and len(novelty.archive) == 1


def test_evolve_keeps_the_best_and_improves():
    tracker = models.InnovationTracker(topic.GREY_OUTPUTS)
    rng = np.random.default_rng(0)
    target = models.grey_image(models.random_genome(tracker, rng, hidden_nodes=1), 12)
    start = [models.random_genome(tracker, rng) for _ in range(10)]
    run = models.evolve(start, lambda images: models.r_squared(images, target), 8, 12, rng, tracker)
    assert len(run["best"]) == 9 and np.all(np.diff(run["best"]) >= 0)
    assert run["images"].shape == (90, 12, 12)


# ----------------------------------------------------------------------------- the breeder


@pytest.fixture
def breeder():
    tracker = models.InnovationTracker()
    first = [models.random_genome(tracker, np.random.default_rng(i)) for i in range(15)]
    return Breeder(first, lambda p, n, s, r: models.breed(p, n, s, r, tracker), size=16,
                        hires=32, rng=np.random.default_rng(0), adopt=tracker.adopt)


def test_breeder_needs_fifteen_genomes():
    genome, _ = colour_genome(0)
    with pytest.raises(topic.CPPNError, match="15 genomes"):
        Breeder([genome] * 3, lambda *a: [], size=8)


def test_breeder_buttons_breed_undo_and_branch(breeder):
    breeder.breed_button.click()  # nothing selected: no new generation, a hint
    assert len(breeder.history) == 1 and "Select at least one" in breeder.status.value
    breeder.select(2)
    breeder.breed_button.click()
    assert breeder.current == 1 and breeder.history[1].parents == (2,)
    assert breeder.selected == []  # a new screen starts unselected
    breeder.select(0, 4)
    breeder.strength.value = 0.3
    breeder.breed_button.click()
    assert breeder.path() == [0, 1, 2] and breeder.history[2].parents == (0, 4)
    assert breeder.current_images.shape == (15, 16, 16, 3)
    breeder.undo_button.click()
    assert breeder.current == 1
    breeder.select(7)
    breeder.breed_button.click()  # a branch: generation 1 now has two children
    assert breeder.path() == [0, 1, 3] and [g.parent for g in breeder.history] == [None, 0, 1, 1]
    breeder.goto.value = 2
    breeder.goto_button.click()
    assert breeder.current == 2 and breeder.path() == [0, 1, 2]
    for _ in range(5):
        breeder.undo_button.click()
    assert breeder.current == 0 and "first generation" in breeder.status.value


def test_breeder_export_and_import(breeder):
    breeder.export_button.click()
    assert "Select the image" in breeder.status.value
    breeder.select(5)
    breeder.export_button.click()
    exported = breeder.text.value
    assert topic.genome_from_json(exported).to_dict() == breeder.genomes[5].to_dict()
    assert breeder.hires_image.value[:4] == b"\x89PNG"
    before = len(breeder.history)
    breeder.import_button.click()
    assert len(breeder.history) == before + 1
    np.testing.assert_array_equal(breeder.current_images[0],
                                  topic.render_genome(topic.genome_from_json(exported), 16))
    breeder.text.value = exported.replace('"format"', '"fromat"')
    breeder.import_button.click()
    assert "Import failed: not a CPPN genome" in breeder.status.value
    assert len(breeder.history) == before + 1


def test_breeder_static_figure(breeder):
    import matplotlib

    matplotlib.use("Agg")
    fig = breeder.figure()
    assert len(fig.axes) == 15


# ----------------------------------------------------------------------------- CPPN-GAN


def test_cppn_generator_is_resolution_independent_and_serialisable():
    import keras

    generator = models.CPPNGenerator(latent_dim=4, hidden=(8, 8), size=12)
    z = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    low = keras.ops.convert_to_numpy(generator(z))
    high = keras.ops.convert_to_numpy(generator.render(z, 36))
    assert low.shape == (2, 12, 12, 1) and high.shape == (2, 36, 36, 1)
    np.testing.assert_allclose(low, high[:, ::3, ::3], atol=1e-5)
    clone = models.CPPNGenerator.from_config(generator.get_config())
    assert (clone.latent_dim, clone.hidden, clone.size, clone.scale) == (4, (8, 8), 12, 4.0)


def test_cppn_gan_runs_algorithm_1_through_the_base_class():
    from coursekit.adversarial import fit_adversarial
    from coursekit.models.gan import AdversarialModel

    model = models.build_cppn_gan(latent_dim=4, hidden=(8, 8), width=4, k=2)
    assert isinstance(model, AdversarialModel)
    images = np.random.default_rng(0).uniform(size=(64, 28, 28)).astype(np.float32)
    history = fit_adversarial(model, images, epochs=1, steps_per_epoch=3, m=8, name=None)
    assert int(model.d_optimizer.iterations) == 6 and int(model.g_optimizer.iterations) == 3
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(history)
    big = model.render(model.fixed_latent(2, "test"), 64)
    assert big.shape == (2, 64, 64, 1) and 0 <= big.min() and big.max() <= 1


def make_cppn_gan(optimizer):
    """A small CPPN-GAN (no dropout in D; latents identical on one or two replicas)."""
    from coursekit.models import gan
    from coursekit.tools import testing

    class Deterministic(models.CPPNGAN):
        def sample_latent(self, m, seed):
            return testing.global_rows(m, self.latent_dim)

    model = Deterministic(models.CPPNGenerator(8, (8, 8)), gan.dcgan_discriminator(2, dropout=0.0),
                          noise_dim=8)
    model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    model.build_all()
    images = np.random.default_rng(0).uniform(size=(8, 28, 28, 1)).astype(np.float32)
    return model, images


def test_cppn_gan_mixed_precision_step_matches_float32():
    from coursekit.tools import testing

    low, high = testing.mixed_precision_update_ratios(make_cppn_gan)
    assert 0.75 < low and high < 1.33


REPLICA_TARGETS = ["tests.test_cppn:make_cppn_gan"]  # checked by tests/test_two_replicas.py
