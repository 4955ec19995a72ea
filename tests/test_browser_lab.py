"""The course as a student meets it: the set-up's JupyterLab in Chromium.

The server is the ``jupyter lab`` next to the Python running the tests (the set-up's
virtual environment), with fresh user settings, on a copy of notebooks/ (so saving the
executed notebook does not touch the repository), in the smoke profile, with live widgets.
Notebook 02_vae is opened (no dialog may appear: no kernel choice), run top to bottom
(no error output), and both of its live explorers are moved with the keyboard (the image
must change). The live widget of every other notebook that has one (01, 04, 05, 06, 07) is
shown by its own cell in a copy of its notebook trimmed to the cells a student runs to
reach it (running the whole notebooks here would cost minutes each; see
test_live_widget_of_each_notebook), and moved: the explorers of 01, 04, 05 and 07's digit
picker with the keyboard (the image must change), 06's breeder with the mouse (a parent,
then Breed: new pictures).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import (
    ARTIFACTS,
    ROOT,
    StaticServer,
    Watched,
    check_deck,
    free_port,
    open_at,
    open_deck,
    screenshot,
    slides_taller_than_the_screen,
    widget_cells,
)

from coursekit.tools import slides

pytestmark = pytest.mark.browser

NOTEBOOK = "02_vae.ipynb"  # the cheapest notebook with live widgets (two explorers)
TOKEN = "coursekit-browser-test"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``jupyter lab`` as ``make lab`` starts it, with fresh user settings, on a free port."""
    home = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", home / "notebooks")
    jupyter = Path(sys.executable).parent / "jupyter"
    env = dict(os.environ, COURSEKIT_PROFILE="smoke",
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    env.pop("COURSEKIT_STATIC_WIDGETS", None)
    port = free_port()
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--allow-root", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}", "notebooks/"],
        cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                assert server.poll() is None, (home / "server.log").read_text()
                time.sleep(0.5)
        yield url, home / "notebooks"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _prompts(page):
    return page.eval_on_selector_all(
        ".jp-CodeCell .jp-InputPrompt", "nodes => nodes.map(n => n.textContent.trim())")


def _run_all(page):
    """Run → Run All Cells, as a student clicks it."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


def _open(page, url, name, workspace=None):
    """Open notebook ``name`` of the lab's folder and wait until its kernel is idle; in a
    workspace of its own if ``workspace`` names one (else JupyterLab's default workspace
    would reopen, beside it, every notebook an earlier test opened)."""
    where = f"workspaces/{workspace}/" if workspace else ""
    page.goto(f"{url}/lab/{where}tree/{name}?token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=120_000)
    page.wait_for_function("document.querySelector('.jp-StatusBar-Widget') && "
                           "document.body.innerText.includes('| Idle')", timeout=120_000)


def _run_and_save(page, path):
    """Run All Cells, wait until every cell ran (or an error stopped the run), save with
    Ctrl+S and return the notebook as JupyterLab wrote it."""
    started = time.perf_counter()
    for _ in range(3):  # the first click can come before the kernel is connected
        _run_all(page)
        for _ in range(60):
            if any(p != "[ ]:" for p in _prompts(page)):
                break
            page.wait_for_timeout(500)
        else:
            continue
        break
    quiet = 0  # polls in a row with nothing running and the kernel idle
    while True:
        prompts = _prompts(page)
        if prompts and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts):
            break
        idle = page.evaluate("document.body.innerText.includes('| Idle')")
        quiet = quiet + 1 if idle and "[*]:" not in prompts else 0
        if quiet >= 10:
            break  # an error stopped Run All: _check_ran reports it
        assert time.perf_counter() - started < 900, f"still running after 900 s: {prompts}"
        page.wait_for_timeout(1000)
    before = path.stat().st_mtime_ns
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    for _ in range(120):  # until the file is saved again, complete
        page.wait_for_timeout(500)
        if path.stat().st_mtime_ns == before:
            continue
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue  # caught while JupyterLab writes it
    raise AssertionError(f"JupyterLab did not save {path.name}")


def _check_ran(saved, watched):
    """Every code cell of the saved notebook ran, none has an error output, and the page
    asked nothing of the internet."""
    code = [c for c in saved["cells"] if c["cell_type"] == "code"]
    errors = [o for c in code for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, "\n".join(f"{e['ename']}: {e['evalue']}" for e in errors)
    missed = [i for i, c in enumerate(code) if not c.get("execution_count")]
    assert not missed, f"code cells {missed} of {len(code)} did not run"
    assert not watched.remote, f"JupyterLab asked the internet for {watched.remote}"


@pytest.fixture(scope="module")
def student(chromium, lab):
    """The notebook opened, the dialogs seen on opening, then every cell run and saved."""
    url, folder = lab
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    watched = Watched(page)
    _open(page, url, NOTEBOOK)
    page.wait_for_timeout(2000)  # a kernel-choice dialog would be up by now
    dialogs = page.locator(".jp-Dialog").all_inner_texts()
    kernel = page.locator(".jp-KernelName").first.inner_text()
    saved = _run_and_save(page, folder / NOTEBOOK)
    yield page, watched, dialogs, kernel, saved
    page.close()


def test_notebook_opens_without_a_dialog(student):
    _, _, dialogs, kernel, _ = student
    assert dialogs == [], f"opening {NOTEBOOK} showed a dialog: {dialogs}"
    assert kernel == "Python (coursekit)"


def test_notebook_runs_top_to_bottom_without_errors(student):
    page, watched, _, _, saved = student
    _check_ran(saved, watched)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lab-02_vae-executed.png"))


def _explorer(slider):
    """The explorer (sliders and output) that holds ``slider``."""
    return slider.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][1]")


def _widget_image(slider):
    """The src of the image drawn by the explorer that holds ``slider``."""
    images = _explorer(slider).locator(".jp-RenderedImage img, .widget-output img")
    return images.first.get_attribute("src")


def _slide(page, slider, name):
    """Move ``slider`` three steps right with the keyboard (its handle focused, as after a
    Tab); the explorer's image must be redrawn with other pixels (a new data: URL)."""
    slider.scroll_into_view_if_needed()
    before = _widget_image(slider)
    assert before, "the explorer shows no image"
    slider.locator(".noUi-handle").first.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    for _ in range(240):
        page.wait_for_timeout(250)
        after = _widget_image(slider)
        if after and after != before:
            break
    assert after and after != before, "moving the slider did not redraw the image"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _explorer(slider).screenshot(path=str(ARTIFACTS / f"lab-{name}.png"))


@pytest.mark.parametrize("which", [0, 2], ids=["latent explorer z1", "beta knob"])
def test_live_explorer_follows_the_keyboard(student, which):
    """02's latent explorer (sliders z1, z2: index 0) and its beta knob (index 2)."""
    page = student[0]
    _slide(page, page.locator(".widget-slider").nth(which), f"02_vae-widget-{which}")


def test_deck_of_the_executed_notebook_shows_its_figures(chromium, student, lab, tmp_path):
    """The notebook JupyterLab just ran, as a deck: its figures load, the checks of
    test_browser_decks.py hold with outputs present, and at 1280×720 no slide, figures and
    training logs included, is taller than the screen."""
    executed = lab[1] / NOTEBOOK
    slides.build([executed], tmp_path)
    server = StaticServer(tmp_path)
    try:
        page, watched = open_deck(chromium, f"{server.url}/{executed.stem}.html")
        images = check_deck(page, watched, executed)
        assert len(images) >= 5, f"the executed {NOTEBOOK} should show its figures: {images}"
        screenshot(page, ".jp-RenderedImage img", f"deck-{executed.stem}-executed")
        page.close()
        page = open_at(chromium, f"{server.url}/{executed.stem}.html")
        tall = slides_taller_than_the_screen(page)  # its figures and training logs included
        page.close()
        assert not tall, f"slides of the executed {NOTEBOOK} taller than the screen: {tall}"
    finally:
        server.close()


def _slider(label):
    """Drive the explorer through its slider labelled ``label``."""
    def drive(page, name):
        slider = page.locator(".widget-slider", has=page.locator(
            ".widget-label", has_text=re.compile(f"^{re.escape(label)}$")))
        _slide(page, slider, name)
    return drive


def _pixels(page, images):
    """What each of ``images`` shows, once all are loaded: its pixels drawn on a canvas, as
    a data: URL (a widgets Image gets a new blob: URL on every update, even to the same
    picture, so its src alone proves nothing)."""
    for _ in range(240):
        shown = images.evaluate_all("""images => images.map(image => {
            if (!image.complete || !image.naturalWidth) return null;
            const canvas = document.createElement('canvas');
            [canvas.width, canvas.height] = [image.naturalWidth, image.naturalHeight];
            canvas.getContext('2d').drawImage(image, 0, 0);
            return canvas.toDataURL();
        })""")
        if shown and None not in shown:
            return shown
        page.wait_for_timeout(250)
    raise AssertionError(f"the images did not load: {shown}")


def _breed(page, name):
    """06's breeder as a student uses it, with the mouse: click child 0's toggle to choose
    it as the parent, then Breed. The status must report generation 1, and the 14 slots
    that showed other genomes must show new pictures (slot 0's child may look like its
    parent, which slot 0 showed)."""
    grid = page.locator(".widget-gridbox")
    images = grid.locator(".widget-image")
    status = page.locator(".widget-html", has_text="generation")
    grid.scroll_into_view_if_needed()
    before = _pixels(page, images)
    assert len(before) == 15, f"the breeder shows {len(before)} children, not 15"
    assert "generation 0" in status.inner_text(), status.inner_text()
    grid.locator(".widget-toggle-button", has_text=re.compile("^0$")).click()
    page.locator(".widget-button", has_text=re.compile("^Breed$")).click()
    for _ in range(240):
        page.wait_for_timeout(250)
        after = _pixels(page, images)
        same = [i for i in range(1, 15) if after[i] == before[i]]
        if "generation 1" in status.inner_text() and not same:
            break
    assert "generation 1, path [0, 1]" in status.inner_text(), status.inner_text()
    assert not same, f"after Breed, slots {same} still show the first generation's pictures"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    grid.screenshot(path=str(ARTIFACTS / f"lab-{name}.png"))


def _shut_down(url, name):
    """Shut the kernel of notebook ``name`` down (its session deleted through the REST API),
    so the next notebook's kernel does not share the two cores with it."""
    headers = {"Authorization": f"token {TOKEN}"}
    with urllib.request.urlopen(urllib.request.Request(f"{url}/api/sessions",
                                                       headers=headers)) as response:
        sessions = json.load(response)
    for session in sessions:
        if session["path"].endswith(name):
            urllib.request.urlopen(urllib.request.Request(
                f"{url}/api/sessions/{session['id']}", method="DELETE", headers=headers))


@dataclass(frozen=True)
class Widget:
    """A notebook's live widget: the code cell that shows it (a string of its source), how
    a student moves it, and what :func:`browser_support.widget_cells` needs to know."""

    notebook: str
    shows: str
    drive: Callable
    in_place: tuple[str, ...] = ()
    static_only: tuple[str, ...] = ()


WIDGETS = [  # the longest (07: it restores two models and the classifier) first
    Widget("07_wgan_conditional", "explore(render", _slider("digit"),
           in_place=("train_wgan(conditional",), static_only=("rows",)),
    Widget("08_diffusion", "explore(render", _slider("digit")),
    Widget("01_autoencoders", "explore(render", _slider("z1")),
    Widget("04_infogan", "explore(render", _slider("c1")),
    Widget("05_pokemon_lstm", "explore(render", _slider("test sprite")),
    Widget("06_cppn", "breeder.show()", _breed),
]


@pytest.mark.parametrize("widget", WIDGETS, ids=[w.notebook for w in WIDGETS])
def test_live_widget_of_each_notebook(chromium, lab, widget):
    """Each other notebook's live widget, shown by its own cell and moved in the browser.

    Running these notebooks whole here would cost minutes each, so JupyterLab opens a copy
    (``<notebook>-widget.ipynb``, next to the notebook) holding only the code cells a
    student runs to reach the widget, taken verbatim and in order by
    :func:`browser_support.widget_cells`: setup, sizes, the ``#@save`` cells, the widget's
    cell, and every earlier cell that binds a name those read (so the training cell, which
    restores the smoke checkpoint that ``make test``'s notebook run left). Run All must run
    them without an error; then the widget is moved as a student moves it: the explorers of
    01 (z1), 04 (c1), 05 (test sprite) and 07's digit picker with the keyboard, its image
    must be redrawn; 06's breeder with the mouse (a parent's toggle, then Breed: the
    breeder is a grid of toggle buttons, which a student clicks), its 15 pictures must
    change. The kernel is shut down afterwards.
    """
    url, folder = lab
    name = f"{widget.notebook}-widget.ipynb"
    stored = json.loads((folder / f"{widget.notebook}.ipynb").read_text(encoding="utf-8"))
    trimmed = widget_cells(stored, widget.shows, widget.in_place, widget.static_only)
    (folder / name).write_text(json.dumps(trimmed, indent=1), encoding="utf-8")
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    watched = Watched(page)
    try:
        _open(page, url, name, workspace=widget.notebook)
        _check_ran(_run_and_save(page, folder / name), watched)
        widget.drive(page, f"{widget.notebook}-widget")
    finally:
        page.close()
        _shut_down(url, name)
