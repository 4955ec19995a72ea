"""The course as a student meets it: the set-up's JupyterLab in Chromium.

The server is the ``jupyter lab`` next to the Python running the tests (the set-up's
virtual environment), with fresh user settings, on a copy of notebooks/ (so saving the
executed notebook does not touch the repository), in the smoke profile, with live widgets.
Notebook 02_vae is opened (no dialog may appear: no kernel choice), run top to bottom
(no error output), and both of its live explorers are moved with the keyboard (the image
must change). The other notebooks' explorers (01, 04, 05) and 06's breeder run in their
static form under nbval only: running those notebooks here would cost minutes each.
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
from pathlib import Path

import pytest
from browser_support import (
    ARTIFACTS,
    ROOT,
    StaticServer,
    Watched,
    check_deck,
    free_port,
    open_deck,
    screenshot,
)

from coursekit import slides

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


@pytest.fixture(scope="module")
def student(chromium, lab):
    """The notebook opened, the dialogs seen on opening, then every cell run and saved."""
    url, folder = lab
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    watched = Watched(page)
    page.goto(f"{url}/lab/tree/{NOTEBOOK}?token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=120_000)
    page.wait_for_function("document.querySelector('.jp-StatusBar-Widget') && "
                           "document.body.innerText.includes('| Idle')", timeout=120_000)
    page.wait_for_timeout(2000)  # a kernel-choice dialog would be up by now
    dialogs = page.locator(".jp-Dialog").all_inner_texts()
    kernel = page.locator(".jp-KernelName").first.inner_text()

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
            break  # an error stopped Run All: the test below reports it
        assert time.perf_counter() - started < 900, f"still running after 900 s: {prompts}"
        page.wait_for_timeout(1000)
    path = folder / NOTEBOOK
    before = path.stat().st_mtime_ns
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    saved = None
    for _ in range(120):  # until the file is saved again, complete
        page.wait_for_timeout(500)
        if path.stat().st_mtime_ns == before:
            continue
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            break
        except json.JSONDecodeError:
            continue  # caught while JupyterLab writes it
    assert saved is not None, f"JupyterLab did not save {NOTEBOOK}"
    yield page, watched, dialogs, kernel, saved
    page.close()


def test_notebook_opens_without_a_dialog(student):
    _, _, dialogs, kernel, _ = student
    assert dialogs == [], f"opening {NOTEBOOK} showed a dialog: {dialogs}"
    assert kernel == "Python (coursekit)"


def test_notebook_runs_top_to_bottom_without_errors(student):
    page, watched, _, _, saved = student
    code = [c for c in saved["cells"] if c["cell_type"] == "code"]
    errors = [o for c in code for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, "\n".join(f"{e['ename']}: {e['evalue']}" for e in errors)
    missed = [i for i, c in enumerate(code) if not c.get("execution_count")]
    assert not missed, f"code cells {missed} of {len(code)} did not run"
    assert not watched.remote, f"JupyterLab asked the internet for {watched.remote}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lab-02_vae-executed.png"))


def _explorer(slider):
    """The explorer (sliders and output) that holds ``slider``."""
    return slider.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][1]")


def _widget_image(slider):
    """The src of the image drawn by the explorer that holds ``slider``."""
    images = _explorer(slider).locator(".jp-RenderedImage img, .widget-output img")
    return images.first.get_attribute("src")


@pytest.mark.parametrize("which", [0, 2], ids=["latent explorer z1", "beta knob"])
def test_live_explorer_follows_the_keyboard(student, which):
    """02's latent explorer (sliders z1, z2: index 0) and its beta knob (index 2)."""
    page = student[0]
    slider = page.locator(".widget-slider").nth(which)
    slider.scroll_into_view_if_needed()
    before = _widget_image(slider)
    assert before, "the explorer shows no image"
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    for _ in range(60):
        page.wait_for_timeout(250)
        after = _widget_image(slider)
        if after and after != before:
            break
    assert after and after != before, "moving the slider did not redraw the image"
    _explorer(slider).screenshot(path=str(ARTIFACTS / f"lab-02_vae-widget-{which}.png"))


def test_deck_of_the_executed_notebook_shows_its_figures(chromium, student, lab, tmp_path):
    """The notebook JupyterLab just ran, as a deck: its figures load (and the checks of
    test_browser_decks.py hold with outputs present)."""
    executed = lab[1] / NOTEBOOK
    slides.build([executed], tmp_path)
    server = StaticServer(tmp_path)
    try:
        page, watched = open_deck(chromium, f"{server.url}/{executed.stem}.html")
        images = check_deck(page, watched, executed)
        assert len(images) >= 5, f"the executed {NOTEBOOK} should show its figures: {images}"
        screenshot(page, ".jp-RenderedImage img", f"deck-{executed.stem}-executed")
        page.close()
    finally:
        server.close()
