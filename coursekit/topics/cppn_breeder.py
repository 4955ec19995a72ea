"""The Picbreeder-style breeder of 06_cppn, section 5: an ipywidgets interface with a history.

It receives the notebook's ``breed`` operator (one mutation per child, crossover when several
parents are selected) and owns only the interface and the history tree; the genomes and
their rendering are ``coursekit.topics.cppn``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .cppn import (
    CPPNError,
    Genome,
    GenomeError,
    genome_from_json,
    png_bytes,
    render_genome,
    render_many,
)

Breed = Callable[[Sequence[Genome], int, float, np.random.Generator], list[Genome]]


@dataclass
class Generation:
    """One screen of the breeder: its genomes, the generation it was bred from (None for
    the first) and the indices, in that generation, of the parents chosen."""

    genomes: list[Genome]
    parent: int | None = None
    parents: tuple[int, ...] = ()


class Breeder:
    """Picbreeder in ipywidgets: 15 children (3 rows of 5), select parents, breed.

    ``breed(parents, n, strength, rng)`` is the notebook's operator (one mutation per child,
    crossover when several parents are selected); the breeder owns only the interface and
    the history. History is a tree: **Undo** returns to the generation the current one was
    bred from (its children stay in the history); **Go to** jumps to any earlier
    generation, and breeding from there starts a new branch. **Export** writes the first
    selected genome as JSON in the text box and renders it at ``hires`` pixels; **Import**
    reads the text box and puts the genome in slot 0 of a new generation (after
    ``adopt(genome)``, the notebook's renumbering into this session's innovation numbers).

    Everything is plain Python: tests drive the buttons with ``.click()``.
    """

    ROWS, COLS = 3, 5

    def __init__(self, first: Sequence[Genome], breed: Breed, size: int = 128,
                 hires: int = 512, strength: float = 1.0, rng=None,
                 adopt: Callable[[Genome], Genome] | None = None):
        import ipywidgets as w

        n = self.ROWS * self.COLS
        if len(first) != n:
            raise CPPNError(f"the breeder shows {n} genomes ({self.ROWS}×{self.COLS}); "
                            f"the first generation has {len(first)}")
        self.breed_fn, self.size, self.hires = breed, size, hires
        self.adopt = adopt or (lambda genome: genome)
        if rng is None:  # every random choice derives from the run's seed
            from ..device import rng as seeded

            rng = seeded("coursekit.topics.cppn.Breeder")
        self.rng = rng
        self.history: list[Generation] = [Generation(list(first))]
        self.current = 0
        self.last_render_s = 0.0
        self.images = [w.Image(format="png", width=size, height=size) for _ in range(n)]
        self.toggles = [w.ToggleButton(description=f"{i}", layout=w.Layout(width=f"{size}px"))
                        for i in range(n)]
        self.strength = w.FloatSlider(value=strength, min=0.05, max=3.0, step=0.05,
                                      description="mutation")
        self.breed_button = w.Button(description="Breed", button_style="primary")
        self.undo_button = w.Button(description="Undo")
        self.goto = w.Dropdown(description="history")
        self.goto_button = w.Button(description="Go to")
        self.export_button = w.Button(description="Export")
        self.import_button = w.Button(description="Import")
        self.text = w.Textarea(placeholder="genome JSON", layout=w.Layout(width="100%"))
        self.status = w.HTML()
        self.hires_image = w.Image(format="png", width=min(hires, 512), height=min(hires, 512))
        self.breed_button.on_click(lambda _: self.breed())
        self.undo_button.on_click(lambda _: self.undo())
        self.goto_button.on_click(lambda _: self.go_to(self.goto.value))
        self.export_button.on_click(lambda _: self.export())
        self.import_button.on_click(lambda _: self.import_text())
        self._show()

    # --- state -------------------------------------------------------------------------
    @property
    def genomes(self) -> list[Genome]:
        return self.history[self.current].genomes

    @property
    def selected(self) -> list[int]:
        return [i for i, t in enumerate(self.toggles) if t.value]

    def select(self, *indices: int) -> None:
        for i, t in enumerate(self.toggles):
            t.value = i in indices

    def path(self) -> list[int]:
        """Generation indices from the first to the current one."""
        chain, g = [], self.current
        while g is not None:
            chain.append(g)
            g = self.history[g].parent
        return chain[::-1]

    # --- actions -----------------------------------------------------------------------
    def breed(self) -> None:
        chosen = self.selected
        if not chosen:
            self.status.value = "Select at least one image (its toggle) before breeding."
            return
        parents = [self.genomes[i] for i in chosen]
        children = self.breed_fn(parents, self.ROWS * self.COLS, float(self.strength.value),
                                 self.rng)
        self.history.append(Generation(list(children), parent=self.current,
                                       parents=tuple(chosen)))
        self.current = len(self.history) - 1
        self._show()

    def undo(self) -> None:
        parent = self.history[self.current].parent
        if parent is None:
            self.status.value = "Already at the first generation."
            return
        self.current = parent
        self._show()

    def go_to(self, index) -> None:
        if index is None or not 0 <= int(index) < len(self.history):
            self.status.value = f"No generation {index!r} in the history."
            return
        self.current = int(index)
        self._show()

    def export(self) -> str | None:
        chosen = self.selected
        if not chosen:
            self.status.value = "Select the image to export first."
            return None
        genome = self.genomes[chosen[0]]
        self.text.value = genome.to_json()
        self.hires_image.value = png_bytes(render_genome(genome, self.hires))
        self.status.value = f"Exported image {chosen[0]}, rendered at {self.hires}×{self.hires}."
        return self.text.value

    def import_text(self) -> Genome | None:
        try:
            genome = self.adopt(genome_from_json(self.text.value))
        except GenomeError as error:
            self.status.value = f"Import failed: {error}"
            return None
        children = [genome] + [g.copy() for g in self.genomes[1:]]
        self.history.append(Generation(children, parent=self.current))
        self.current = len(self.history) - 1
        self.hires_image.value = png_bytes(render_genome(genome, self.hires))
        self._show()
        self.status.value = "Imported into image 0 of a new generation."
        return genome

    # --- drawing -----------------------------------------------------------------------
    def render_all(self) -> np.ndarray:
        """The current generation's images, (15, size, size, C): one image per thread
        (numpy releases the GIL), each image vectorised over its pixels."""
        return render_many(self.genomes, self.size)

    def _show(self) -> None:
        start = time.perf_counter()
        self.current_images = self.render_all()
        self.last_render_s = time.perf_counter() - start
        for image, pixels in zip(self.images, self.current_images, strict=True):
            image.value = png_bytes(pixels)
        self.select()
        options = [(f"generation {i}" + (f" (from {g.parent})" if g.parent is not None else ""),
                    i) for i, g in enumerate(self.history)]
        self.goto.options = options
        self.goto.value = self.current
        self.status.value = (f"generation {self.current}, path {self.path()}; "
                             f"15 images in {self.last_render_s * 1000:.0f} ms")

    def widget(self):
        import ipywidgets as w

        cells = [w.VBox([img, tog]) for img, tog in zip(self.images, self.toggles, strict=True)]
        grid = w.GridBox(cells, layout=w.Layout(
            grid_template_columns=f"repeat({self.COLS}, {self.size + 8}px)"))
        controls = w.HBox([self.breed_button, self.undo_button, self.strength, self.goto,
                           self.goto_button])
        return w.VBox([controls, self.status, grid,
                       w.HBox([self.export_button, self.import_button]), self.text,
                       self.hires_image])

    def figure(self, title: str | None = None):
        """The static fallback: the current generation as a 3×5 matplotlib grid."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(self.ROWS, self.COLS, figsize=(self.COLS * 1.6,
                                                                 self.ROWS * 1.6))
        for i, ax in enumerate(axes.ravel()):
            image = self.current_images[i]
            ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray",
                      vmin=0, vmax=1)
            ax.set_title(f"{i}", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        fig.suptitle(title or f"generation {self.current} (path {self.path()})", fontsize=9)
        fig.tight_layout()
        return fig

    def show(self):
        """The live widget in JupyterLab; the static figure where widgets cannot run."""
        from ..widgets import widgets_available

        if widgets_available():
            from IPython.display import display

            box = self.widget()
            display(box)
            return box
        import matplotlib.pyplot as plt

        fig = self.figure()
        plt.show()
        plt.close(fig)
        return fig
