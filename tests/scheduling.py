"""How the tests share the two cores: a pytest-xdist scheduler (loaded with
``-p tests.scheduling``; ``make`` passes it with ``-n $(JOBS)``).

A *scope* runs on one worker, its tests in order; scopes go to whichever worker is free.

- **Notebooks** are a scope each, handed out longest first (``NOTEBOOKS``, by their measured
  smoke times), so the two workers finish at about the same time. Any order is correct: a
  model that one notebook trains and another reuses (``coursekit.zoo``: 01's 2-D
  autoencoder in 02, 02's VAE in 03 and 08) is trained once, by the first kernel that asks for it,
  while a second one waits on the checkpoint's lock file and then reuses it
  (``coursekit.checkpoints.Checkpoint.lock``); the MNIST classifier likewise
  (``coursekit.metrics.load_classifier``). A producer still comes before its consumers, so
  the usual case is a reuse, not a wait. Every notebook must be in ``NOTEBOOKS``.
- **Unit and browser tests** run one test file per scope, so a file's module fixtures (one
  process for all two-replica checks, one JupyterLab, the built decks) are made once;
  the tests named in ``SPREAD`` are scopes of their own (each live-widget case opens its
  own notebook, and they are the browser stage's longest).

The scopes are given by a scheduler, not by ``xdist_group`` marks: with pytest 9.2 and
pytest-xdist 3.8, ``--dist loadgroup`` silently ignores those marks (xdist renames
``item._nodeid``, which pytest no longer reads; pytest-dev/pytest-xdist#1386).
"""

from __future__ import annotations

import pytest

# Longest first, so that the two workers finish together: the notebooks (smoke seconds with
# both workers busy, fresh clone, 2 cores: 01 336, 06 204 with the classifier's training, 02
# 125, 03 121, 05 104, 07 99, 04 80; 08 236 measured beside two other runs; 02 before 08,
# whose section 7 reuses its VAE), then the test
# files whose tests take longest (unit: the two-replica process of every model about 76 s
# alone, then 75, 52, 41, 39, 38, 36, 22, 18, 11 s (before it); the browser stage's notebook
# in JupyterLab about 90 s); other files follow in collection order.
NOTEBOOKS = ("01_autoencoders", "06_cppn", "02_vae", "08_diffusion", "03_gan",
             "05_pokemon_lstm", "07_wgan_conditional", "04_infogan")
LONGEST_FILES = ("tests/test_browser_lab.py", "tests/test_two_replicas.py",
                 "tests/test_pokemon_lstm.py", "tests/test_gan.py",
                 "tests/test_vae.py", "tests/test_autoencoders.py", "tests/test_infogan.py",
                 "tests/test_wgan_conditional.py", "tests/test_diffusion.py", "tests/test_cppn.py",
                 "tests/test_training.py", "tests/test_packaging.py")
SPREAD = ("tests/test_browser_lab.py::test_live_widget_of_each_notebook[",)


def place_of(stem: str) -> int:
    """Where notebook ``stem`` comes in ``NOTEBOOKS``; a clear error if it is not there."""
    if stem not in NOTEBOOKS:
        raise pytest.UsageError(
            f"notebook {stem}.ipynb is not in NOTEBOOKS of tests/scheduling.py: add it, by its "
            f"smoke time (longest first), after the notebooks whose models it reuses")
    return NOTEBOOKS.index(stem)


def scope_of(nodeid: str) -> str:
    """The scope of a test: its notebook, the test itself (``SPREAD``), or its file."""
    path = nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        place_of(path.rsplit("/", 1)[-1].removesuffix(".ipynb"))
        return path
    if nodeid.startswith(SPREAD):
        return nodeid
    return path


def order_of(nodeid: str) -> int:
    """Where a test's notebook or file comes in the longest-first order."""
    path = nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        return place_of(path.rsplit("/", 1)[-1].removesuffix(".ipynb"))
    if path in LONGEST_FILES:
        return len(NOTEBOOKS) + LONGEST_FILES.index(path)
    return len(NOTEBOOKS) + len(LONGEST_FILES)


def pytest_collection_modifyitems(config, items):
    """Put the notebooks and test files longest first, each one's tests in their own order
    (workers collect alike, so every worker agrees; the scheduler hands out scopes in this
    order)."""
    items[:] = [item for _, item in sorted(enumerate(items),
                                           key=lambda pair: (order_of(pair[1].nodeid), pair[0]))]


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    # xdist would otherwise hand out the scopes with the most tests first (02_vae, with the
    # most cells, before 01 and 06), not in the longest-first order set above.
    config.option.loadscopereorder = False
    return Scheduling(config, log)
