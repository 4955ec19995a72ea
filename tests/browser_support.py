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
    from coursekit import slides

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
