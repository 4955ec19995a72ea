"""How the course is installed: the wheel without `-e`, and `make lab`'s set-up by need."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, **kwargs):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_wheel_installs_into_a_fresh_environment_and_finds_everything(tmp_path):
    """The wheel (not the editable checkout) holds every generated model module and every
    benchmark: `packages.find` takes the whole package tree and nothing else."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "coursekit", source / "coursekit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "-w", tmp_path / "dist", source)
    (wheel,) = (tmp_path / "dist").glob("coursekit-*.whl")

    env = tmp_path / "env"
    _run(sys.executable, "-m", "venv", "--without-pip", env)
    python = env / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                .strip())
    _run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", site, wheel)
    # the dependencies (TensorFlow & co.) come from this environment; a path line in a .pth
    # file adds the folder only, so the checkout's editable finder is not installed there
    (site / "course_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    expected_models = sorted(p.stem for p in (ROOT / "coursekit" / "models").glob("*.py")
                             if p.stem != "__init__")
    expected_benchmarks = sorted(p.stem for p in (ROOT / "coursekit" / "benchmarks").glob("*.py")
                                 if p.stem != "__init__")
    script = (
        "import importlib, pkgutil, coursekit, coursekit.models\n"
        "from coursekit.tools import bench\n"
        "models = sorted(m.name for m in pkgutil.iter_modules(coursekit.models.__path__))\n"
        "for name in models: importlib.import_module('coursekit.models.' + name)\n"
        "print(coursekit.__file__); print(','.join(models)); print(','.join(bench.available()))\n"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    where, models, benchmarks = _run(python, "-c", script, cwd=tmp_path,
                                     env=clean).strip().splitlines()[-3:]
    assert where.startswith(str(site)), where  # the installed copy, not the checkout
    assert models.split(",") == expected_models
    assert benchmarks.split(",") == expected_benchmarks


def _stub(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def _setup_sandbox(tmp_path: Path) -> tuple[Path, dict]:
    """A copy of the set-up's inputs, a stub Python that records what it is asked to do
    (creating a venv whose `python` and `jupyter` are stubs too), and a PATH holding only
    the basic tools, with `npm` and `chromium` absent and `apt-get`/`sudo` as tripwires."""
    project = tmp_path / "project"
    (project / "jupyter").mkdir(parents=True)
    for name in ("Makefile", "requirements.txt", "pyproject.toml", "package.json",
                 "package-lock.json", "jupyter/overrides.json"):
        shutil.copy(ROOT / name, project / name)
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("cp", "mkdir", "touch", "id", "test", "cat", "env", "dirname"):
        (tools / tool).symlink_to(shutil.which(tool))
    log = tmp_path / "calls.log"
    for tripwire in ("apt-get", "sudo"):
        _stub(tools / tripwire, f'echo "{tripwire} $*" >> {log}; exit 1\n')
    python = tmp_path / "python3"
    _stub(python, f'echo "$(basename "$0") $*" >> {log}\n'
                  'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin";'
                  ' cp "$0" "$3/bin/python"; cp "$0" "$3/bin/jupyter"; fi\n')
    (tools / "basename").symlink_to(shutil.which("basename"))
    env = {"PATH": str(tools), "HOME": str(tmp_path)}
    return project, env | {"LOG": str(log)}


def test_make_lab_sets_up_without_npm_or_chromium(tmp_path):
    project, env = _setup_sandbox(tmp_path)
    make = shutil.which("make")
    result = subprocess.run([make, "lab", f"PYTHON={tmp_path / 'python3'}"], cwd=project,
                            env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    calls = Path(env["LOG"]).read_text()
    assert "apt-get" not in calls and "sudo" not in calls, calls
    assert "npm" not in output and "chromium" not in output.lower(), output
    assert "-m venv .venv" in calls and "pip install --quiet -r requirements.txt" in calls
    assert "ipykernel install --sys-prefix --name coursekit" in calls
    assert "jupyter lab" in calls and (project / ".venv" / ".coursekit-installed").exists()


def test_make_slides_names_the_missing_npm(tmp_path):
    """The same sandbox: the decks need the JavaScript, and say how to get it."""
    project, env = _setup_sandbox(tmp_path)
    result = subprocess.run([shutil.which("make"), "slides", f"PYTHON={tmp_path / 'python3'}"],
                            cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "npm not found: install Node.js" in result.stdout + result.stderr
    assert "slides --build" not in Path(env["LOG"]).read_text()
