"""Repository hygiene: pins agree, notebooks are stored clean, every notebook is registered."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip().lstrip("- ").strip()
        match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([\w.\-]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_environment_yml_matches_requirements():
    requirements = _pins((ROOT / "requirements.txt").read_text().splitlines())
    text = (ROOT / "environment.yml").read_text()
    pip_section = text.split("- pip:", 1)[1].splitlines()
    environment = _pins(pip_section)
    assert requirements, "requirements.txt pins nothing"
    assert environment == requirements
    python = re.search(r"python=(\d+\.\d+)", text).group(1)
    assert tuple(map(int, python.split("."))) >= (3, 11)


def test_every_requirement_is_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line, f"requirements.txt: {line!r} is not pinned with =="


def _notebooks():
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_are_stored_without_outputs():
    assert _notebooks(), "no notebooks found"
    for path in _notebooks():
        notebook = json.loads(path.read_text())
        for index, cell in enumerate(notebook["cells"]):
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{path.name} cell {index} has outputs"
                assert cell.get("execution_count") is None, f"{path.name} cell {index} was run"


def test_notebooks_use_the_course_kernel_and_set_up_first():
    for path in _notebooks():
        notebook = json.loads(path.read_text())
        assert notebook["metadata"]["kernelspec"]["name"] == "coursekit", path.name
        first_code = next(c for c in notebook["cells"] if c["cell_type"] == "code")
        assert "setup(" in "".join(first_code["source"]), f"{path.name}: setup() not first"


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for path in _notebooks():
        assert path.stem in readme, f"README.md does not describe {path.name}"


def test_readme_first_screen_shows_the_two_commands_and_links_the_details():
    """The newcomer's page: the two commands before any heading, the plumbing explained
    (#@save export, and why), and the details one link away."""
    readme = (ROOT / "README.md").read_text()
    first_screen = readme.split("\n## ", 1)[0]
    assert "make lab" in first_screen and "make test" in first_screen
    for needed in ("#@save", "make export", "coursekit/models/", "coursekit.models.gan",
                   "%run", "fingerprint", "COURSEKIT_PROFILE", "COURSEKIT_SEED",
                   "COURSEKIT_DATA_MIRROR", "EXTRAS=gpu", "make bench", "make slides",
                   "(results/README.md)", "(CONTRIBUTING.md)"):
        assert needed in readme, f"README.md no longer says {needed!r}"
    assert (ROOT / "CONTRIBUTING.md").exists() and (ROOT / "results" / "README.md").exists()


def _headings(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return [line for cell in cells if cell["cell_type"] == "markdown"
            for line in "".join(cell["source"]).splitlines() if line.startswith("#")]


# "Introduced in 02_vae, section 5", "(03_gan sections 4)": whitespace is normalised first, so
# a reference broken over two docstring lines is found too.
CITED = re.compile(r"(\d\d_[a-z_]+?),?\s+sections?\s+(\d+)")


def _citations(path: Path) -> list[tuple[str, str]]:
    return CITED.findall(" ".join(path.read_text().split()))


def test_docstrings_cite_existing_notebook_sections():
    """Every "NN_topic, section M" in every module of the package (hand-written, generated,
    benchmarks, tools) points to a real notebook and one of its numbered headings."""
    problems, cited = [], 0
    for source in sorted((ROOT / "coursekit").rglob("*.py")):
        for name, section in _citations(source):
            cited += 1
            notebook = ROOT / "notebooks" / f"{name}.ipynb"
            where = source.relative_to(ROOT)
            if not notebook.exists():
                problems.append(f"{where}: {name} does not exist")
            elif not any(re.match(rf"#+\s*{section}\s*[·.]", h) for h in _headings(notebook)):
                problems.append(f"{where}: {name} has no section {section}")
    assert not problems, problems
    assert cited >= 20, "the pattern no longer finds the package's references"


def test_the_citation_pattern_reads_references_across_lines(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""Introduced in 02_vae,\n    section 5; see 03_gan sections 4."""')
    assert _citations(module) == [("02_vae", "5"), ("03_gan", "4")]


def test_notebooks_only_name_notebooks_that_exist():
    """A notebook that sends students to "notebook 04" or "(06)" fails while 04 or 06 is
    missing."""
    existing = {path.name[:2] for path in _notebooks()}
    patterns = (r"[Nn]otebooks? (\d\d)\b", r"\b(\d\d)_[a-z]", r"\((0\d)\)")
    for path in _notebooks():
        cells = json.loads(path.read_text())["cells"]
        text = "".join("".join(cell["source"]) for cell in cells)
        named = {n for pattern in patterns for n in re.findall(pattern, text)}
        assert named <= existing, f"{path.name} names missing notebooks {sorted(named - existing)}"


# The notebook that trains each model of coursekit.zoo (its checkpoint), which a later
# notebook reuses; every public function of the zoo must be listed.
ZOO_PRODUCERS = {"autoencoder_2d": "01_autoencoders", "vae": "02_vae",
                 "vae_samples": "02_vae"}


def test_every_notebook_is_scheduled_after_the_notebooks_whose_models_it_reuses():
    """make notebooks hands the notebooks out in ``NOTEBOOKS`` order (tests/scheduling.py):
    a notebook that reuses a zoo model comes after the notebook that trains it, so that the
    model is usually reused, not waited for (a lock makes any order correct: see
    tests/test_training.py)."""
    import inspect

    import pytest
    from scheduling import LONGEST_FILES, NOTEBOOKS, place_of, scope_of

    from coursekit import zoo

    public = {name for name, f in inspect.getmembers(zoo, inspect.isfunction)
              if not name.startswith("_") and f.__module__ == zoo.__name__}
    assert public == set(ZOO_PRODUCERS), "list the notebook that trains each zoo model"
    stems = [path.stem for path in _notebooks()]
    assert sorted(NOTEBOOKS) == sorted(stems)
    assert [f for f in LONGEST_FILES if not (ROOT / f).exists()] == [], "renamed test files"
    for stem in stems:
        path_text = (ROOT / "notebooks" / f"{stem}.ipynb").read_text()
        for used in sorted(set(re.findall(r"zoo\.([a-z_0-9]+)", path_text))):
            producer = ZOO_PRODUCERS[used]
            if producer != stem:
                assert place_of(producer) < place_of(stem), (
                    f"{stem} reuses zoo.{used} of {producer}: put it after {producer} in "
                    f"NOTEBOOKS of tests/scheduling.py")
    # a notebook's cells share a worker; a test file's tests share one, SPREAD tests do not
    assert scope_of("notebooks/01_autoencoders.ipynb::Cell 0") == scope_of(
        "notebooks/01_autoencoders.ipynb::Cell 9") != scope_of(
        "notebooks/03_gan.ipynb::Cell 0")
    assert scope_of("tests/test_vae.py::test_a[x]") == "tests/test_vae.py"
    widget = "tests/test_browser_lab.py::test_live_widget_of_each_notebook[06_cppn]"
    assert scope_of(widget) == widget
    with pytest.raises(pytest.UsageError, match="add it"):
        place_of("99_new_topic")


def test_the_scheduler_runs_a_test_file_on_one_worker(tmp_path):
    """Two workers and two files of four tests: each file's tests all run on one worker, in
    order (what the module fixtures of make unit and make browser rely on)."""
    import os
    import subprocess
    import sys

    for name in ("a", "b"):
        (tmp_path / f"test_{name}.py").write_text(
            "import os, pathlib\n"
            + "".join(f"def test_{i}():\n    with pathlib.Path('{name}.log').open('a') as f:\n"
                      f"        f.write(os.environ['PYTEST_XDIST_WORKER'] + ' {i}\\n')\n"
                      for i in range(4)))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "-p",
                             "tests.scheduling", "-p", "no:cacheprovider", "."],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("a", "b"):
        runs = [line.split() for line in (tmp_path / f"{name}.log").read_text().splitlines()]
        assert len({worker for worker, _ in runs}) == 1, runs
        assert [i for _, i in runs] == ["0", "1", "2", "3"], runs


def test_the_scheduler_hands_out_files_in_the_collected_order(tmp_path):
    """One worker, a file of two tests before a file of four: they run in that order (the
    longest-first order of tests/scheduling.py), not reordered by their number of tests."""
    import os
    import subprocess
    import sys

    for name, count in (("a", 2), ("b", 4)):
        (tmp_path / f"test_{name}.py").write_text(
            "import pathlib\n" + "".join(
                f"def test_{i}():\n    with pathlib.Path('order.log').open('a') as f:\n"
                f"        f.write('{name}\\n')\n" for i in range(count)))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "1", "-p",
                             "tests.scheduling", "-p", "no:cacheprovider", "."],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "order.log").read_text().split() == ["a"] * 2 + ["b"] * 4

