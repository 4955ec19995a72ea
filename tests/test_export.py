"""The #@save export: notebooks and coursekit.models agree; the export rules themselves."""

import json

from coursekit.tools import export


def _notebook(path, sources):
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": s} for s in sources]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


def test_the_package_models_are_the_notebooks_save_cells():
    assert export.stale() == [], "run `make export` after editing a notebook's #@save cells"


def test_only_cells_whose_first_line_is_the_marker_are_exported(tmp_path):
    nb = _notebook(tmp_path / "07_toy.ipynb", [
        "#@save\nimport math\n", "x = 1  # not saved\n", "# a comment\n#@save\ny = 2\n",
        "#@save\ndef f():\n    return math.pi\n"])
    assert export.topic(nb) == "toy"
    text = export.module_text(nb)
    assert "import math" in text and "def f():" in text and "GENERATED" in text
    assert "x = 1" not in text and "y = 2" not in text
    assert not [line for line in text.splitlines() if line.strip() == "#@save"]
    namespace = {}
    exec(compile(text, "toy.py", "exec"), namespace)
    assert namespace["f"]() > 3.14


def test_a_changed_notebook_is_reported_stale(tmp_path, monkeypatch):
    notebooks, models = tmp_path / "notebooks", tmp_path / "models"
    notebooks.mkdir()
    monkeypatch.setattr(export, "MODELS", models)
    monkeypatch.setattr(export, "ROOT", tmp_path)
    nb = _notebook(notebooks / "09_demo.ipynb", ["#@save\nA = 1\n"])
    export.write(notebooks)
    assert export.stale(notebooks) == []
    _notebook(nb, ["#@save\nA = 2\n"])
    assert export.stale(notebooks) == ["models/demo.py differs from its notebook"]
    (models / "orphan.py").write_text("B = 1\n")
    assert "models/orphan.py has no notebook with #@save cells" in export.stale(notebooks)
