"""Lecture decks from the notebooks: the slideshow convention, and the reveal.js build.

One source serves the lab and the lecture. Each cell's ``metadata.slideshow.slide_type``
(what JupyterLab's property inspector, nbconvert and RISE read) is *derived* from the
notebook by one convention, so nobody has to set it by hand:

==============================================  ==========================================
cell                                            slide type
==============================================  ==========================================
the title (``# 01 · ...``, the first cell)      ``slide``
a ``## `` heading cell (``## 3 · ...``,         ``slide``: one horizontal slide per
``## Summary``, ``## Exercises``, ...)          section
any other markdown cell (``###`` sub-headings,  ``subslide``: stacked below its section,
the text between figures)                       so each text comes with the figures of the
                                                code cells that follow it
a code cell                                     ``-`` (continue): it stays on the slide of
                                                the text above it; the deck shows its
                                                *outputs* only (the code is read in the lab)
==============================================  ==========================================

Cell tags override the rule: ``notes`` (speaker notes, shown with the ``s`` key),
``skip`` (lab only), ``slide``, ``subslide``, ``fragment``, ``continue`` (``-``), and
``show-code`` keeps a code cell's source on its slide. Add a tag in JupyterLab (property
inspector, "Cell Tags") and run ``make tidy``. A ``notes`` cell starts with what to say
(no label: JupyterLab shows its tag), and every numbered section has one.

``python -m coursekit.tools.slides --tidy`` writes the derived metadata into the notebooks,
``--check`` fails when a notebook's metadata differs from it (run by ``make test``), and
``--build`` writes one reveal.js deck per notebook plus ``index.html`` into ``slides/build``
(``make slides``; ``--execute`` runs the notebooks first). The decks are fully offline:
reveal.js and MathJax 3 come from ``node_modules`` (``npm ci``, run by ``make setup``) and
are copied next to the decks, so the build folder can be carried to any lecture room.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

from ..profiles import active_profile

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NODE_MODULES = ROOT / "node_modules"
TEMPLATES = ROOT / "slides"  # the deck template; the built decks go to slides/build
BUILD = ROOT / "slides" / "build"

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
TAGS = {"slide": "slide", "subslide": "subslide", "fragment": "fragment", "skip": "skip",
        "notes": "notes", "continue": "-"}
SHOW_CODE = "show-code"
NUMBERED_SECTION = re.compile(r"^##\s+(\d+)\s*·", re.MULTILINE)
MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$", re.DOTALL)
MAX_WORDS, MEDIAN_WORDS = 120, 70  # a slide is a screen (the TF tutorials' cells: 10-80 words)

# What the decks load, copied from node_modules into <build>/assets (see package.json).
ASSETS = {
    "reveal.js/dist": "reveal.js/dist",
    "reveal.js/plugin/notes": "reveal.js/plugin/notes",
    "mathjax/es5/tex-chtml-full.js": "mathjax/tex-chtml-full.js",
    "mathjax/es5/output/chtml/fonts/woff-v2": "mathjax/output/chtml/fonts/woff-v2",
}


class SlidesError(RuntimeError):
    """The slideshow metadata or the deck build went wrong; the message says how to fix it."""


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def slide_type(cell, index: int) -> str:
    """The slide type the convention gives ``cell`` (the ``index``-th cell of its notebook)."""
    tags = [t for t in cell.get("metadata", {}).get("tags", []) if t in TAGS]
    if len(tags) > 1:
        raise SlidesError(f"cell {index} has the slide tags {tags}: keep one")
    if tags:
        return TAGS[tags[0]]
    if cell["cell_type"] != "markdown":
        return "-"
    first = _source(cell).lstrip().split("\n", 1)[0]
    if index == 0 or first.startswith("# ") or first.startswith("## "):
        return "slide"
    return "subslide"


def expected(notebook: dict) -> list[str]:
    """The slide type of every cell of ``notebook`` (a parsed .ipynb) by the convention."""
    return [slide_type(cell, i) for i, cell in enumerate(notebook["cells"])]


def current(notebook: dict) -> list[str]:
    """The slide types stored in ``notebook``'s metadata (``-`` where none is stored)."""
    return [cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") or "-"
            for cell in notebook["cells"]]


def tidy(path: Path) -> bool:
    """Write the convention's slideshow metadata into the notebook at ``path``.

    ``-`` is stored as no ``slideshow`` entry at all, so code cells stay clean. Returns True
    if the file changed. The file is rewritten as JupyterLab writes it (1-space indent).
    """
    text = path.read_text(encoding="utf-8")
    notebook = json.loads(text)
    for cell, kind in zip(notebook["cells"], expected(notebook), strict=True):
        metadata = cell.setdefault("metadata", {})
        if kind == "-":
            metadata.pop("slideshow", None)
        else:
            metadata["slideshow"] = {"slide_type": kind}
    new = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def problems(path: Path, lesson: bool = True) -> list[str]:
    """Why the notebook at ``path`` does not follow the convention (empty if it does); with
    ``lesson``, also where it is not yet a presentable lesson (``lesson_problems``)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    found = []
    try:
        wanted = expected(notebook)
    except SlidesError as error:
        return [f"{path.name}: {error}"]
    for index, (have, want) in enumerate(zip(current(notebook), wanted, strict=True)):
        if have != want:
            found.append(f"{path.name} cell {index}: slide type {have!r}, the convention says "
                         f"{want!r} (run `make tidy`, or tag the cell to override)")
    cells = notebook["cells"]
    if not cells or wanted[0] != "slide" or not _source(cells[0]).startswith("# "):
        found.append(f"{path.name}: the first cell must be the '# NN · title' slide")
    for section in numbered_sections(notebook):
        if section not in slide_sections(notebook):
            found.append(f"{path.name}: section {section} has no slide")
    found += [f"{path.name} cell {index}: in a skipped (self-study) section, but not tagged "
              f"'skip': it would join the slide before the section" for index in _leaks(cells)]
    return found + (lesson_problems(notebook, path.name) if lesson else [])


def slide_words(notebook: dict) -> list[tuple[int, int]]:
    """(cell index, words) of every markdown cell shown as a slide or subslide; a formula
    (``$...$`` or ``$$...$$``) counts as one word."""
    return [(i, len(MATH.sub(" M ", _source(cell)).split()))
            for i, (cell, kind) in enumerate(zip(notebook["cells"], expected(notebook),
                                                 strict=True))
            if cell["cell_type"] == "markdown" and kind not in ("notes", "skip")]


def lesson_problems(notebook: dict, name: str) -> list[str]:
    """Where the notebook is not yet a deck an instructor can present: a slide over
    ``MAX_WORDS`` words, a median over ``MEDIAN_WORDS``, two ``## `` headings in one cell,
    a numbered section without speaker notes, a notes cell that opens with a label, or not
    one to three ``show-code`` cells."""
    import statistics

    found = []
    words = slide_words(notebook)
    found += [f"{name} cell {i}: {n} words on one slide (at most {MAX_WORDS}: move the rest "
              f"to a notes cell or split the slide)" for i, n in words if n > MAX_WORDS]
    if words and statistics.median(n for _, n in words) > MEDIAN_WORDS:
        found.append(f"{name}: a median of {statistics.median(n for _, n in words):g} words "
                     f"per slide (at most {MEDIAN_WORDS})")
    cells, kinds = notebook["cells"], expected(notebook)
    section, noted = None, set()
    for i, (cell, kind) in enumerate(zip(cells, kinds, strict=True)):
        text = _source(cell)
        if cell["cell_type"] != "markdown":
            continue
        if len(re.findall(r"^## ", text, re.MULTILINE)) > 1:
            found.append(f"{name} cell {i}: two '## ' headings in one cell (Summary, Exercises "
                         f"and Papers are a slide each)")
        heading = NUMBERED_SECTION.match(text.lstrip())
        if heading or text.lstrip().startswith("## "):
            section = heading.group(1) if heading else None
        if kind == "notes":
            noted.add(section)
            if text.lstrip().startswith("**"):
                found.append(f"{name} cell {i}: speaker notes start with a label; start with "
                             f"what to say")
    found += [f"{name}: section {n} has no speaker-notes cell (tag one 'notes')"
              for n in numbered_sections(notebook) if n not in noted]
    shown = sum(SHOW_CODE in c.get("metadata", {}).get("tags", []) for c in cells
                if c["cell_type"] == "code")
    if not 1 <= shown <= 3:
        found.append(f"{name}: {shown} code cells tagged {SHOW_CODE!r}; tag one to three key "
                     f"ones (the loss, the training step)")
    return found


def _leaks(cells: list) -> list[int]:
    """Cells of a section whose ``## `` heading is tagged ``skip`` that are not skipped too."""
    leaks, skipped = [], False
    for index, cell in enumerate(cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] == "markdown" and _source(cell).lstrip().startswith("## "):
            skipped = "skip" in tags
        elif skipped and "skip" not in tags:
            leaks.append(index)
    return leaks


def numbered_sections(notebook: dict) -> list[str]:
    """The numbers of the notebook's ``## N · ...`` sections in the deck, in order. A section
    whose heading cell is tagged ``skip`` is self-study (02's appendix): lab only, it needs
    neither a slide nor speaker notes."""
    return [n for cell in notebook["cells"] if cell["cell_type"] == "markdown"
            and "skip" not in cell.get("metadata", {}).get("tags", [])
            for n in NUMBERED_SECTION.findall(_source(cell))]


def slide_sections(notebook: dict) -> set[str]:
    """The section numbers whose heading cell is a slide in the stored metadata."""
    return {n for cell, kind in zip(notebook["cells"], current(notebook), strict=True)
            if kind == "slide" and cell["cell_type"] == "markdown"
            for n in NUMBERED_SECTION.findall(_source(cell))}


def slide_count(notebook: dict) -> int:
    """How many slides reveal.js shows for ``notebook``: every ``slide`` and ``subslide``
    (nbconvert also turns the first visible cell into a slide if it is not one)."""
    kinds = current(notebook)
    visible = [k for k in kinds if k not in ("skip", "notes")]
    count = sum(k in ("slide", "subslide") for k in kinds)
    if visible and visible[0] not in ("slide", "subslide"):
        count += 1
    return count


def title(notebook: dict, fallback: str) -> str:
    """The text of the notebook's ``# `` title heading."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            for line in _source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


# ----------------------------------------------------------------------------- building


def copy_assets(out: Path) -> None:
    """Copy reveal.js and MathJax from node_modules into ``out/assets``."""
    missing = [name for name in ASSETS if not (NODE_MODULES / name).exists()]
    if missing:
        raise SlidesError(f"{NODE_MODULES} lacks {missing}: the decks load reveal.js and "
                          "MathJax from there. Run `make setup` (it runs `npm ci`), or "
                          "`npm ci` in the repository.")
    for source, target in ASSETS.items():
        source, target = NODE_MODULES / source, out / "assets" / target
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.map", "*.esm.js"))
        else:
            shutil.copy2(source, target)


def execute(notebook, path: Path, timeout: int = 1800):
    """Run ``notebook`` (an nbformat node) top to bottom in its kernel, in its folder,
    with static widgets (``COURSEKIT_STATIC_WIDGETS=1``), so the deck shows figures."""
    from nbclient import NotebookClient

    os.environ["COURSEKIT_STATIC_WIDGETS"] = "1"
    kernel = notebook.metadata.get("kernelspec", {}).get("name", "python3")
    client = NotebookClient(notebook, timeout=timeout, kernel_name=kernel,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return notebook


RICH_TEXT = '<pre style="white-space:pre;'  # how Keras's model.summary() (rich) prints


def merged_text_outputs(outputs: list) -> list:
    """A code cell's outputs with each run of text (printed lines, one per epoch, and
    Keras's rich-printed summaries) merged into one stdout stream: the deck shows it as one
    box of a few lines that scrolls (the deck's CSS), so a training log fits its slide."""
    import nbformat

    merged = []
    for output in outputs:
        data = output.get("data", {})
        text = None
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            text = output["text"]
        elif str(data.get("text/html", "")).startswith(RICH_TEXT) and "text/plain" in data:
            text = data["text/plain"].rstrip("\n") + "\n"
        if text is None:
            merged.append(output)
        elif merged and merged[-1].get("output_type") == "stream" \
                and merged[-1].get("name") == "stdout":
            merged[-1]["text"] += text
        else:
            merged.append(nbformat.v4.new_output("stream", name="stdout", text=text))
    return merged


def deck_html(notebook, name: str) -> str:
    """The reveal.js deck of ``notebook`` (an nbformat node), loading ``assets/`` only."""
    from nbconvert import SlidesExporter

    for cell in notebook.cells:
        if cell.cell_type == "code" and SHOW_CODE not in cell.metadata.get("tags", []):
            cell.metadata.setdefault("transient", {})["remove_source"] = True
        if cell.cell_type == "code":
            cell.outputs = merged_text_outputs(cell.get("outputs", []))
    exporter = SlidesExporter(
        extra_template_paths=[str(TEMPLATES)],
        template_file="deck.html.j2",
        reveal_url_prefix="assets/reveal.js",
        reveal_theme="white",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": name}})
    return body


def with_solution_notes(notebook, stem: str) -> None:
    """Put each exercise's worked solution (``solutions/<stem>.py``) into the speaker notes
    of its exercise's slide, for the instructor: the explanation and the edits."""
    import nbformat

    from .exercises import SOLUTIONS, solutions_of

    if not (SOLUTIONS / f"{stem}.py").exists():
        return
    positions = {cell.get("id"): i for i, cell in enumerate(notebook.cells)}
    for s in sorted(solutions_of(stem), key=lambda s: -positions.get(s.check, -1)):
        if s.check not in positions:
            continue
        edits = "\n\n".join(
            f"In cell `{e.cell}`, replace\n\n```python\n{e.old}\n```\n\nwith\n\n"
            f"```python\n{e.new}\n```" for e in s.edits)
        note = nbformat.v4.new_markdown_cell(
            f"Solution of exercise {s.exercise}: {s.explanation}\n\n{edits}\n\n"
            f"Then re-run: {', '.join(f'`{c}`' for c in s.rerun)}.")
        note.metadata["slideshow"] = {"slide_type": "notes"}
        notebook.cells.insert(positions[s.check], note)


def build(paths: list[Path], out: Path = BUILD, run: bool = False, timeout: int = 1800) -> Path:
    """Write ``out/<notebook>.html`` for every notebook in ``paths`` and ``out/index.html``.

    With ``run`` the notebooks are executed first (in the profile of
    ``$COURSEKIT_PROFILE``); without, the decks show the stored notebooks (no outputs):
    enough to check structure, math and that nothing is loaded from outside.
    """
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    entries = []
    for path in paths:
        bad = problems(path, lesson=False)  # a long slide still builds; --check reports it
        if bad:
            raise SlidesError("\n".join(bad))
        started = time.perf_counter()
        notebook = nbformat.read(path, as_version=4)
        if run:
            print(f"executing {path.name} ...", flush=True)
            execute(notebook, path, timeout)
        with_solution_notes(notebook, path.stem)
        (out / f"{path.stem}.html").write_text(deck_html(notebook, path.stem), encoding="utf-8")
        stored = json.loads(path.read_text(encoding="utf-8"))
        entries.append((path.stem, title(stored, path.stem), slide_count(stored)))
        print(f"{out / (path.stem + '.html')}: {entries[-1][2]} slides "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    profile = active_profile() if run else "not executed"
    (out / "index.html").write_text(index_html(entries, profile), encoding="utf-8")
    return out


def index_html(entries, profile: str) -> str:
    """A page linking every deck, with its slide count and the profile it was built in."""
    items = "\n".join(
        f'  <li><a href="{name}.html">{html.escape(text)}</a> · {count} slides</li>'
        for name, text, count in entries)
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Generative deep learning: lecture decks</title>
<style>body {{ font-family: sans-serif; max-width: 46em; margin: 3em auto; line-height: 1.6; }}
</style></head>
<body>
<h1>Generative deep learning: lecture decks</h1>
<p>Built from the notebooks (profile: {html.escape(profile)}). Open a deck, press
<kbd>s</kbd> for the speaker notes, <kbd>Esc</kbd> for an overview, <kbd>f</kbd> for full
screen.</p>
<ul>
{items}
</ul>
</body>
</html>
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.tools.slides", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--tidy", action="store_true", help="write the slideshow metadata")
    action.add_argument("--check", action="store_true", help="fail if it is not tidy")
    action.add_argument("--build", action="store_true", help="write the decks")
    parser.add_argument("--execute", action="store_true", help="run the notebooks first")
    parser.add_argument("--out", type=Path, default=BUILD, help="build folder")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks (default: every notebooks/NN_*.ipynb)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if args.tidy:
        for path in paths:
            if tidy(path):
                print(f"tidied {path}")
        return 0
    if args.check:
        found = [p for path in paths for p in problems(path)]
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    try:
        out = build(paths, args.out, run=args.execute, timeout=args.timeout)
    except SlidesError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"open {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
