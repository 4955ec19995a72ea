"""CPPN infrastructure: coordinate grids, vectorised and tiled rendering, genomes as data,
HSB colour and GIFs (the Picbreeder-style breeder widget is ``coursekit.topics.cppn_breeder``).

Introduced in 06_cppn. What a student reads and edits (the dense CPPN, the mutation and
crossover operators, the genetic algorithm) is written in the notebook and exported to
``coursekit.models.cppn``; this module holds what those cells stand on:

- section 1: ``coordinates`` and ``render`` (every pixel of a tile in one numpy call, tiles
  so that a 4096×4096 image never needs gigabytes), ``ACTIVATIONS``;
- section 4: ``save_gif``;
- section 5: the genome as plain data (``NodeGene``, ``ConnectionGene``, ``Genome``), its
  JSON form with clear errors (``genome_from_json``), ``evaluate_genome`` and
  ``render_genome`` (inputs x, y, d and a bias; outputs hue, saturation, brightness);
- section 7 (the CPPN-GAN) uses ``coordinates`` for its Keras generator's grid.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..profiles import Budget

# Sizes of notebook 06 in each profile (the code path is the same in all three).
# rings_runs: the GA on the broad rings (section 6a) ends either stuck near R² 0.33 or
# above 0.8 (seeds 7 and 11, ten runs each), so its average over three runs ranged from 0.45
# to 0.84 by seed; ten runs (about 2 s each in smoke) measure the average.
BUDGET = Budget(
    smoke=dict(preview=96, high_res=1024, gif_frames=48, gif_size=64, breeder_size=128,
               breeder_generations=3, hires_export=256, ga_size=32, ga_population=24,
               ga_generations=40, ga_seeds=3, rings_runs=10, novelty_k=10, activation_nets=6,
               gan_epochs=3, gan_steps=150, gan_batch=64, gan_hidden=(32, 32, 32),
               gan_width=16, gan_eval=1000),
    cpu=dict(preview=192, high_res=1024, gif_frames=96, gif_size=160, breeder_size=128,
             breeder_generations=6, hires_export=768, ga_size=32, ga_population=40,
             ga_generations=100, ga_seeds=5, rings_runs=10, novelty_k=10, activation_nets=16,
             gan_epochs=10, gan_steps=300, gan_batch=64, gan_hidden=(32, 32, 32),
             gan_width=16, gan_eval=2000),
    gpu=dict(preview=256, high_res=1024, gif_frames=120, gif_size=256, breeder_size=128,
             breeder_generations=10, hires_export=1024, ga_size=32, ga_population=50,
             ga_generations=150, ga_seeds=10, rings_runs=20, novelty_k=15, activation_nets=32,
             gan_epochs=50, gan_steps=468, gan_batch=128, gan_hidden=(128, 128, 128),
             gan_width=64, gan_eval=5000),
)

# ----------------------------------------------------------------------------- section 1

# NEAT's steepened sigmoid (4.9 in Stanley & Miikkulainen 2002), to the digits ANJI uses
ANJI_SLOPE = 4.924273


def _bipolar_sigmoid(v):
    return np.tanh((0.5 * ANJI_SLOPE) * v)  # = 2 / (1 + exp(-slope v)) - 1, without overflow


def _gaussian(v):
    return np.exp(-ANJI_SLOPE * v * v)


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "sin": np.sin,
    "cos": np.cos,
    "gaussian": _gaussian,
    "bipolar_sigmoid": _bipolar_sigmoid,
    "identity": lambda v: v,
    "relu": lambda v: np.maximum(v, 0.0),
    "abs": np.abs,
}
"""Activation name -> vectorised numpy function. ``gaussian`` and ``bipolar_sigmoid`` use
NEAT's steep slope (ANJI's value; ANJI is an open-source NEAT library): exp(-4.924273 v²) and
2/(1+exp(-4.924273 v)) - 1."""

# the activations an evolved node draws from: the course's choice (06_cppn, section 5)
EVOLVED_ACTIVATIONS = ("sin", "bipolar_sigmoid", "gaussian", "cos", "identity")


class CPPNError(ValueError):
    """Bad input to the CPPN helpers: an unknown activation, a wrong shape, a bad genome."""


def activation(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """The activation called ``name``, or a ``CPPNError`` listing the known ones."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise CPPNError(f"Unknown activation {name!r}; choose one of "
                        f"{', '.join(sorted(ACTIVATIONS))} (coursekit.topics.cppn.ACTIVATIONS), "
                        f"or add yours to that dict.") from None


def default_box(width: int, height: int, scale: float = 1.0) -> tuple[float, float, float, float]:
    """The region of the plane an image shows: the shorter side spans [-scale, scale], the
    longer one extends further at the same pixel size (a wide image shows more pattern)."""
    short = min(width, height)
    hx, hy = scale * width / short, scale * height / short
    return (-hx, hx, -hy, hy)


def _check_size(width, height):
    for name, value in (("width", width), ("height", height)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise CPPNError(f"{name} must be a positive whole number of pixels, got {value!r}")


def axis(n: int, low: float, high: float) -> np.ndarray:
    """Sample positions of ``n`` pixels on [low, high): pixel i sits at low + (high-low)·i/n.

    Using i/n (each pixel's corner) makes every k-th pixel of an image k times larger sit
    at exactly the same coordinate: i/n and (k·i)/(k·n) are the same correctly rounded
    float. That is what lets section 3 compare a 64×64 image with a subsampled 1024×1024.
    """
    return (low + (high - low) * (np.arange(n, dtype=np.float64) / n)).astype(np.float32)


def coordinates(width: int, height: int, box=None, scale: float = 1.0):
    """Per-pixel inputs ``(x, y, d)``, each float32 of shape (height, width), with
    d = sqrt(x² + y²), the distance from the centre. ``box`` = (x0, x1, y0, y1)."""
    _check_size(width, height)
    x0, x1, y0, y1 = default_box(width, height, scale) if box is None else box
    xs, ys = axis(width, x0, x1), axis(height, y0, y1)
    x, y = np.meshgrid(xs, ys)
    return x, y, np.sqrt(x * x + y * y)


def _one_blas_thread():
    """While our threads split the tiles, keep BLAS from starting threads of its own (two
    levels of threads on two cores made rendering slower). threadpoolctl comes with
    scikit-learn; without it, nothing changes."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def render(fn: Callable, width: int, height: int, box=None, scale: float = 1.0,
           tile_pixels: int = 1 << 13, workers: int | None = None) -> np.ndarray:
    """Evaluate ``fn(x, y, d) -> (n, channels)`` on every pixel; returns (height, width, C).

    Vectorised: ``fn`` receives whole tiles of about ``tile_pixels`` pixels (whole rows) as
    flat float32 arrays, never one pixel at a time. Tiles bound the memory (a 4-layer,
    32-unit network on 1024×1024 pixels in one piece holds 128 MB per layer) and keep a
    tile's activations in the processor's cache, which is faster too. numpy releases the
    GIL inside its loops, so ``workers`` threads (default: one per core) render tiles in
    parallel. The result does not depend on ``tile_pixels`` or ``workers`` beyond float32
    rounding in matrix products (a few 1e-7).
    """
    _check_size(width, height)
    x0, x1, y0, y1 = default_box(width, height, scale) if box is None else box
    xs, ys = axis(width, x0, x1), axis(height, y0, y1)
    rows = max(1, int(tile_pixels) // width)
    starts = range(0, height, rows)

    def tile(r0):
        x, y = np.meshgrid(xs, ys[r0:r0 + rows])
        x, y = x.ravel(), y.ravel()
        values = np.asarray(fn(x, y, np.sqrt(x * x + y * y)), dtype=np.float32)
        if values.ndim == 1:
            values = values[:, None]
        if values.ndim != 2 or values.shape[0] != x.size:
            raise CPPNError(f"fn(x, y, d) must return shape (n, channels) for n = {x.size} "
                            f"pixels, got {values.shape}")
        return r0, values

    workers = min(workers or os.cpu_count() or 1, len(starts))
    if workers > 1:
        with _one_blas_thread(), ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(tile, starts))
    else:
        results = [tile(r0) for r0 in starts]
    out = np.empty((height, width, results[0][1].shape[1]), np.float32)
    for r0, values in results:
        out[r0:r0 + rows] = values.reshape(-1, width, out.shape[2])
    return out


# ----------------------------------------------------------------------------- section 4


def to_uint8_frames(frames) -> np.ndarray:
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim == 4 and frames.shape[-1] == 1:
        frames = frames[..., 0]
    return (np.clip(frames, 0, 1) * 255 + 0.5).astype(np.uint8)


def save_gif(frames, path, fps: float = 12.0) -> Path:
    """Write frames (N, H, W[, 3]) with values in [0, 1] as a looping GIF; returns the path."""
    import imageio.v3 as iio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, to_uint8_frames(frames), extension=".gif",
                duration=1000.0 / fps, loop=0)
    return path


def png_bytes(image) -> bytes:
    """An image (H, W[, C]) in [0, 1] as PNG bytes (for ``ipywidgets.Image``)."""
    import imageio.v3 as iio

    return iio.imwrite("<bytes>", to_uint8_frames(image), extension=".png")


# ----------------------------------------------------------------------------- section 5

INPUT_LABELS = ("x", "y", "d", "bias")
COLOUR_OUTPUTS = ("hue", "saturation", "brightness")
GREY_OUTPUTS = ("ink",)
NODE_KINDS = ("input", "hidden", "output")


@dataclass
class NodeGene:
    """A node: ``id``, ``kind`` (input, hidden, output), ``activation`` and a ``label``."""

    id: int
    kind: str
    activation: str = "identity"
    label: str = ""


@dataclass
class ConnectionGene:
    """A weighted edge ``source -> target``, tagged with its NEAT ``innovation`` number."""

    innovation: int
    source: int
    target: int
    weight: float
    enabled: bool = True


@dataclass
class Genome:
    """A CPPN genome as plain data: nodes by id, connections by innovation number.

    The operators that change genomes (mutations, crossover) are in the notebook.
    """

    nodes: dict[int, NodeGene] = field(default_factory=dict)
    connections: dict[int, ConnectionGene] = field(default_factory=dict)

    def copy(self) -> Genome:
        return Genome({k: NodeGene(**vars(n)) for k, n in self.nodes.items()},
                      {k: ConnectionGene(**vars(c)) for k, c in self.connections.items()})

    def ids(self, kind: str) -> list[int]:
        return sorted(i for i, n in self.nodes.items() if n.kind == kind)

    @property
    def outputs(self) -> list[int]:
        return self.ids("output")

    def order(self, include_disabled: bool = False) -> list[int]:
        """Node ids in an order where every enabled edge (every edge, with
        ``include_disabled``) goes forward (Kahn's algorithm); ``CPPNError`` on a cycle."""
        incoming = {i: 0 for i in self.nodes}
        succ: dict[int, list[int]] = {i: [] for i in self.nodes}
        for c in self.connections.values():
            if c.enabled or include_disabled:
                incoming[c.target] += 1
                succ[c.source].append(c.target)
        ready = sorted(i for i, k in incoming.items() if k == 0)
        order = []
        while ready:
            i = ready.pop(0)
            order.append(i)
            for j in succ[i]:
                incoming[j] -= 1
                if incoming[j] == 0:
                    ready.append(j)
        if len(order) != len(self.nodes):
            raise CPPNError("the genome's enabled connections form a cycle; a CPPN must be "
                            "feed-forward (remove or disable one connection of the cycle)")
        return order

    def creates_cycle(self, source: int, target: int) -> bool:
        """Would an enabled edge ``source -> target`` close a cycle? (Is source reachable
        from target?) Disabled edges count too, since a later mutation may re-enable them."""
        if source == target:
            return True
        succ: dict[int, list[int]] = {}
        for c in self.connections.values():
            succ.setdefault(c.source, []).append(c.target)
        stack, seen = [target], set()
        while stack:
            i = stack.pop()
            if i == source:
                return True
            if i not in seen:
                seen.add(i)
                stack.extend(succ.get(i, ()))
        return False

    def to_dict(self) -> dict:
        return {"format": "coursekit-cppn-genome", "version": 1,
                "nodes": [vars(n) for n in sorted(self.nodes.values(), key=lambda n: n.id)],
                "connections": [vars(c) for c in sorted(self.connections.values(),
                                                        key=lambda c: c.innovation)]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


class GenomeError(CPPNError):
    """A genome (usually from JSON) that cannot be used; the message says what and how."""


def _field(entry, name, kind, where):
    if not isinstance(entry, dict) or name not in entry:
        raise GenomeError(f"{where} has no {name!r} field; every entry needs it (see "
                          f"Genome.to_json() for the format)")
    value = entry[name]
    ok = (isinstance(value, bool) if kind is bool else
          isinstance(value, (int, float)) and not isinstance(value, bool) if kind is float else
          isinstance(value, int) and not isinstance(value, bool) if kind is int else
          isinstance(value, kind))
    if not ok or (kind is float and not math.isfinite(value)):
        raise GenomeError(f"{where}: {name!r} must be a finite {kind.__name__}, got {value!r}")
    return value


def genome_from_dict(data) -> Genome:
    """Check and build a ``Genome`` from ``Genome.to_dict()``'s form; ``GenomeError`` names
    the first problem (missing field, unknown activation, dangling edge, cycle, ...)."""
    if not isinstance(data, dict) or data.get("format") != "coursekit-cppn-genome":
        raise GenomeError("not a CPPN genome: expected a JSON object with "
                          "\"format\": \"coursekit-cppn-genome\" (export one with "
                          "Genome.to_json() or the breeder's Export button)")
    if data.get("version") != 1:
        raise GenomeError(f"genome format version {data.get('version')!r} is not supported; "
                          f"this coursekit reads version 1")
    for key in ("nodes", "connections"):
        if not isinstance(data.get(key), list):
            raise GenomeError(f"the genome's {key!r} must be a list")
    genome = Genome()
    for k, entry in enumerate(data["nodes"]):
        where = f"nodes[{k}]"
        nid = _field(entry, "id", int, where)
        kind = _field(entry, "kind", str, where)
        act = _field(entry, "activation", str, where)
        label = entry.get("label", "") if isinstance(entry, dict) else ""
        if kind not in NODE_KINDS:
            raise GenomeError(f"{where}: kind {kind!r} is not one of {NODE_KINDS}")
        if act not in ACTIVATIONS:
            raise GenomeError(f"{where}: unknown activation {act!r}; known: "
                              f"{', '.join(sorted(ACTIVATIONS))}")
        if nid in genome.nodes:
            raise GenomeError(f"{where}: node id {nid} appears twice; ids must be unique")
        genome.nodes[nid] = NodeGene(nid, kind, act, str(label))
    inputs = [genome.nodes[i].label for i in genome.ids("input")]
    if inputs != list(INPUT_LABELS):
        raise GenomeError(f"the input nodes must be {list(INPUT_LABELS)} in id order, found "
                          f"{inputs}")
    labels = [genome.nodes[i].label for i in genome.outputs]
    if labels not in (list(COLOUR_OUTPUTS), list(GREY_OUTPUTS)):
        raise GenomeError(f"the output nodes must be {list(COLOUR_OUTPUTS)} (colour) or "
                          f"{list(GREY_OUTPUTS)} (grey) in id order, found {labels}")
    for k, entry in enumerate(data["connections"]):
        where = f"connections[{k}]"
        innov = _field(entry, "innovation", int, where)
        src, dst = _field(entry, "source", int, where), _field(entry, "target", int, where)
        weight = float(_field(entry, "weight", float, where))
        enabled = _field(entry, "enabled", bool, where)
        for end, nid in (("source", src), ("target", dst)):
            if nid not in genome.nodes:
                raise GenomeError(f"{where}: {end} node {nid} does not exist in 'nodes'")
        if genome.nodes[dst].kind == "input":
            raise GenomeError(f"{where}: target {dst} is an input node; inputs take no edges")
        if innov in genome.connections:
            raise GenomeError(f"{where}: innovation number {innov} appears twice")
        genome.connections[innov] = ConnectionGene(innov, src, dst, weight, enabled)
    try:
        # disabled edges too: crossover may re-enable them, so they must not close a cycle
        genome.order(include_disabled=True)
    except CPPNError:
        raise GenomeError("the genome's connections (enabled or disabled) form a cycle; a "
                          "CPPN must be feed-forward: remove one connection of the cycle") from None
    return genome


def genome_from_json(text: str) -> Genome:
    """Parse a genome exported with ``Genome.to_json()``; clear errors on malformed input."""
    try:
        data = json.loads(text)
    except (TypeError, json.JSONDecodeError) as error:
        raise GenomeError(f"the genome text is not valid JSON ({error}); paste the whole "
                          f"text produced by Export / Genome.to_json()") from None
    return genome_from_dict(data)


def evaluate_genome(genome: Genome, x, y, d) -> np.ndarray:
    """The genome's raw outputs on flat pixel arrays: shape (n, number of outputs).

    Vectorised over pixels: a Python loop over the (few) nodes in feed-forward order, each
    node's value one numpy array over all pixels. Inputs: x, y, d and a constant bias 1.
    """
    x = np.asarray(x, np.float32)
    inputs = genome.ids("input")
    if len(inputs) != len(INPUT_LABELS):
        raise CPPNError(f"a genome needs the inputs {INPUT_LABELS}, found {len(inputs)}")
    values = dict(zip(inputs, (x, np.asarray(y, np.float32), np.asarray(d, np.float32),
                               np.ones_like(x)), strict=True))
    incoming: dict[int, list[ConnectionGene]] = {}
    for c in genome.connections.values():
        if c.enabled:
            incoming.setdefault(c.target, []).append(c)
    for nid in genome.order():
        node = genome.nodes[nid]
        if node.kind == "input":
            continue
        total = np.zeros_like(x)
        for c in incoming.get(nid, ()):
            total += np.float32(c.weight) * values[c.source]
        values[nid] = activation(node.activation)(total).astype(np.float32, copy=False)
    return np.stack([values[i] for i in genome.outputs], axis=1)


def hsb_to_rgb(h, s, v) -> np.ndarray:
    """Vectorised HSB (= HSV) to RGB, like ``java.awt.Color.HSBtoRGB``: hue wraps (its
    fractional part is used), s and v in [0, 1]. Returns (..., 3) float32."""
    h = np.asarray(h, np.float32)
    s, v = np.asarray(s, np.float32), np.asarray(v, np.float32)
    h6 = (h - np.floor(h)) * 6.0
    sector = np.floor(h6).astype(np.int32) % 6
    f = h6 - np.floor(h6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    rgb = [np.select([sector == k for k in range(6)], [c[i] for c in choices])
           for i in range(3)]
    return np.stack(rgb, axis=-1).astype(np.float32)


def outputs_to_rgb(outputs: np.ndarray) -> np.ndarray:
    """The HSB output layer of the breeder's CPPNs: hue as is (wrapping),
    saturation clamped to [0, 1], brightness |b| clamped to [0, 1]; a single 'ink' output
    becomes grey |ink| clamped. Returns (..., 3) RGB for colour, (..., 1) for grey."""
    if outputs.shape[-1] == 3:
        h, s, b = outputs[..., 0], outputs[..., 1], outputs[..., 2]
        return hsb_to_rgb(h, np.clip(s, 0, 1), np.clip(np.abs(b), 0, 1))
    if outputs.shape[-1] == 1:
        return np.clip(np.abs(outputs), 0, 1).astype(np.float32)
    raise CPPNError(f"expected 3 (hue, saturation, brightness) or 1 (ink) outputs, "
                    f"got {outputs.shape[-1]}")


def render_genome(genome: Genome, width: int, height: int | None = None, box=None,
                  scale: float = 1.0, tile_pixels: int = 1 << 13,
                  workers: int | None = None) -> np.ndarray:
    """The genome's image (height, width, 3 or 1) in [0, 1], rendered in tiles."""
    height = width if height is None else height
    raw = render(lambda x, y, d: evaluate_genome(genome, x, y, d), width, height, box=box,
                 scale=scale, tile_pixels=tile_pixels, workers=workers)
    return outputs_to_rgb(raw)


def render_many(genomes: Sequence[Genome], size: int, workers: int | None = None) -> np.ndarray:
    """Render several genomes at ``size``×``size``, one genome per thread: (N, size, size, C)."""
    workers = min(workers or os.cpu_count() or 1, len(genomes))

    def one(genome):
        return render_genome(genome, size, tile_pixels=size * size, workers=1)

    if workers > 1:
        with _one_blas_thread(), ThreadPoolExecutor(workers) as pool:
            return np.stack(list(pool.map(one, genomes)))
    return np.stack([one(g) for g in genomes])
