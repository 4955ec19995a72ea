"""What the browser tests share: Debian's Chromium driven by Playwright, a page that refuses
every request leaving this machine, and a folder for screenshots.

The browser is the system's ``chromium`` (``apt-get install chromium``, done by
``make setup`` where it is missing), never one downloaded by ``playwright install``;
``$CHROMIUM`` names another binary.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def chromium_path() -> str:
    """The Chromium binary to drive, or an error that says how to install it."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not path:
        raise RuntimeError("No Chromium found: the browser tests drive Debian's `chromium` "
                           "(run `make setup`, which installs it with apt-get, or "
                           "`sudo apt-get install chromium`; or set $CHROMIUM to a binary).")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Watched:
    """A page whose console errors and non-local requests are recorded; non-local requests
    are aborted, so a deck that needs the internet fails visibly."""

    def __init__(self, page, context=None):
        """Record ``page``'s errors; route the requests of ``context`` (every window it
        opens) if given, else of ``page``."""
        self.page, self.errors, self.remote = page, [], []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        (context or page).route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.remote.append(url)
            route.abort()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class StaticServer:
    """Serves a folder on 127.0.0.1 from a thread (the decks as a lecturer's laptop would)."""

    def __init__(self, folder: Path):
        self.folder = folder
        handler = functools.partial(_QuietHandler, directory=folder)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def open_deck(chromium, url):
    """A watched page showing the deck at ``url`` once reveal.js and MathJax are done."""
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    watched = Watched(page)
    page.goto(url)
    page.wait_for_function(
        "window.Reveal && Reveal.isReady() && document.body.dataset.mathjax === 'done'",
        timeout=60_000)
    page.wait_for_load_state("load")
    return page, watched


def check_deck(page, watched, notebook):
    """Slide count, math, images, console and requests of an open deck; its images."""
    from coursekit.tools import slides

    stored = json.loads(notebook.read_text(encoding="utf-8"))
    assert page.evaluate("Reveal.getTotalSlides()") == slides.slide_count(stored)
    text = page.evaluate("document.querySelector('.reveal .slides').textContent")
    assert "$$" not in text, "raw $$ left: MathJax did not typeset a display formula"
    has_math = any("$" in "".join(c["source"]) for c in stored["cells"]
                   if c["cell_type"] == "markdown")
    if has_math:
        assert page.evaluate("document.querySelectorAll('mjx-container').length") > 0
        assert page.evaluate("document.querySelectorAll('mjx-merror').length") == 0
    images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    assert all(done and width > 0 for done, width in images), images
    assert not watched.remote, f"requests left this machine: {watched.remote}"
    assert not watched.errors, f"console errors: {watched.errors}"
    return images


def open_at(chromium, url, width=1280, height=720):
    """A deck at a projector's 1280×720, with transitions off (slides are measured at once)."""
    page = chromium.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    page.wait_for_function("window.Reveal && Reveal.isReady() && "
                           "document.body.dataset.mathjax === 'done'", timeout=60_000)
    page.wait_for_load_state("load")
    page.evaluate("Reveal.configure({transition: 'none', backgroundTransition: 'none'})")
    return page


def slides_taller_than_the_screen(page) -> list[dict]:
    """Each slide of the open deck shown in turn (the deck fits its figures on showing it):
    those whose content is taller than the slide (they would scroll) or than the screen."""
    return page.evaluate("""() => Reveal.getSlides().map((slide, i) => {
        const {h, v} = Reveal.getIndices(slide); Reveal.slide(h, v);
        const scale = Reveal.getScale();
        return {i, text: slide.innerText.trim().slice(0, 60),
                content: slide.scrollHeight * scale, room: slide.clientHeight * scale,
                screen: window.innerHeight};
    }).filter(s => s.content > s.room + 1 || s.content > s.screen)""")


def screenshot(page, selector, name):
    """Show the first slide holding ``selector`` (or the second slide) and save it."""
    page.evaluate("""(selector) => {
        const hit = document.querySelector('.reveal .slides ' + selector);
        const slide = hit ? hit.closest('section') : Reveal.getSlides()[1];
        const {h, v} = Reveal.getIndices(slide); Reveal.slide(h, v);
    }""", selector)
    page.wait_for_timeout(900)  # the slide transition
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _binds_and_reads(source: str) -> tuple[set[str], set[str]]:
    """The names a cell binds at its top level, and the names it reads that it binds nowhere
    (a name read at the top level but also bound inside one of its functions is missed: a
    slice can then lack a cell, which fails loudly with a NameError, never silently)."""
    import ast
    import builtins

    tree = ast.parse("\n".join(line for line in source.splitlines()
                               if not line.lstrip().startswith(("%", "!"))))
    scopes = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda

    def outside_scopes(node):
        yield node
        if not isinstance(node, scopes):
            for child in ast.iter_child_nodes(node):
                yield from outside_scopes(child)

    top = set()
    for node in (n for statement in tree.body for n in outside_scopes(statement)):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            top.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            top.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            top.update((a.asname or a.name).split(".")[0] for a in node.names)
    bound, read = set(top), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return top, read - bound - set(dir(builtins))


def widget_cells(notebook: dict, shows: str, in_place: tuple[str, ...] = (),
                 static_only: tuple[str, ...] = ()) -> dict:
    """A copy of ``notebook`` with only the code cells a student runs to reach its widget.

    The widget cell is the code cell whose source contains ``shows``. Kept, unchanged and in
    the notebook's order: the first two code cells (setup, sizes), every ``#@save`` cell (the
    model's code, definitions only), the widget cell, and, for every name a kept cell reads,
    the last earlier cell that binds it (so the training cell that restores the smoke
    checkpoint comes in through the model's name). ``in_place`` names cells (by a string of
    their source) that change a needed object without binding its name, which reading names
    cannot see (07 trains ``conditional`` by passing it to ``train_wgan``); ``static_only``
    names that only the widget's static fallback reads (never called in a live kernel).
    """
    from coursekit.tools.export import MARKER

    cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    sources = ["".join(c["source"]) for c in cells]
    names = [_binds_and_reads(s) for s in sources]

    def find(text):
        hits = [k for k, s in enumerate(sources) if text in s]
        assert len(hits) == 1, f"{len(hits)} code cells contain {text!r}; expected one"
        return hits[0]

    target = find(shows)
    keep = {0, 1, target, *(find(t) for t in in_place)}
    keep |= {k for k, s in enumerate(sources[:target]) if s.startswith(MARKER)}
    todo = sorted(keep)
    while todo:
        k = todo.pop()
        wanted = names[k][1] - (set(static_only) if k == target else set())
        for name in wanted:
            binder = next((j for j in range(k - 1, -1, -1) if name in names[j][0]), None)
            if binder is not None and binder not in keep:
                keep.add(binder)
                todo.append(binder)
    return {**notebook, "cells": [c for k, c in enumerate(cells) if k in keep]}
