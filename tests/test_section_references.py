"""Docstrings that say where a helper is taught ("Introduced in 02_vae, section 5") point to a
notebook that exists and to a numbered section heading it has ("## 5 · ...")."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the modules of notebooks 01 and 02 and the infrastructure they introduce
MODULES = ["autoencoder.py", "vae.py", "zoo.py", "models/autoencoders.py", "models/vae.py",
           "gradients.py", "training.py", "export.py", "device.py", "profiles.py",
           "benchmarks/autoencoder.py", "benchmarks/vae.py"]
REFERENCE = re.compile(r"(\d\d_\w+?),?\s+sections?\s+(\d+)")


def _sections(notebook: str) -> set[str]:
    cells = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    headings = set()
    for cell in cells:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            headings |= set(re.findall(r"^## (\d+) ·", text, flags=re.MULTILINE))
    return headings


@pytest.mark.parametrize("module", MODULES)
def test_section_references_exist(module):
    text = " ".join((ROOT / "coursekit" / module).read_text().split())
    for notebook, section in REFERENCE.findall(text):
        assert (ROOT / "notebooks" / f"{notebook}.ipynb").exists(), f"{module}: {notebook}"
        assert section in _sections(notebook), f"{module}: {notebook} has no section {section}"


def test_the_check_finds_references():
    text = " ".join((ROOT / "coursekit" / "models" / "vae.py").read_text().split())
    assert ("02_vae", "6") in REFERENCE.findall(text)
