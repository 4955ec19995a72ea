"""How the tests share the two cores: a pytest-xdist scheduler (loaded with
``-p tests.scheduling``; ``make`` passes it with ``-n $(JOBS)``).

A *scope* runs on one worker, its tests in order; scopes go to whichever worker is free.

- **Notebooks** run in two chains. A notebook reuses a model that an earlier notebook trained
  (``coursekit.zoo``): 02_vae's section 9 reuses 01's 2-D autoencoder, 03_gan's FID
  comparison reuses 02's VAE. So 01, 02 and 03 run in that order on one worker, and the
  notebooks that reuse nothing run on the other. The MNIST classifier that scores samples
  is trained once, by the first kernel that asks for it; another kernel that asks
  meanwhile waits for it (``coursekit.metrics.load_classifier``). Every notebook must be
  in ``CHAINS``: a new one is placed after the notebooks whose models it reuses.
- **Unit and browser tests** run one test file per scope, so a file's module fixtures (one
  process for its two-replica checks, one JupyterLab, the built decks) are made once;
  the tests named in ``SPREAD`` are scopes of their own (each live-widget case opens its
  own notebook, and they are the browser stage's longest).

The scopes are given by a scheduler, not by ``xdist_group`` marks: with pytest 9.2 and
pytest-xdist 3.8, ``--dist loadgroup`` silently ignores those marks (xdist renames
``item._nodeid``, which pytest no longer reads; pytest-dev/pytest-xdist#1386).
"""

from __future__ import annotations

import pytest

CHAINS = {
    "reuse": ("01_autoencoders", "02_vae", "03_gan"),
    "standalone": ("06_cppn", "05_pokemon_lstm", "04_infogan", "07_wgan_conditional"),
}
SPREAD = ("tests/test_browser_lab.py::test_live_widget_of_each_notebook[",)


def chain_of(stem: str) -> tuple[str, int]:
    """The chain of notebook ``stem`` and its place in it; a clear error if it has none."""
    for chain, stems in CHAINS.items():
        if stem in stems:
            return chain, stems.index(stem)
    raise pytest.UsageError(
        f"notebook {stem}.ipynb is in no chain of tests/scheduling.py: add it to CHAINS "
        f"after the notebooks whose models it reuses")


def scope_of(nodeid: str) -> str:
    """The scope of a test: its notebook's chain, the test itself (``SPREAD``), or its file."""
    path = nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        return "notebooks:" + chain_of(path.rsplit("/", 1)[-1].removesuffix(".ipynb"))[0]
    if nodeid.startswith(SPREAD):
        return nodeid
    return path


def pytest_collection_modifyitems(config, items):
    """Put each chain's notebooks in chain order (cells stay in order; workers collect
    alike, so every worker agrees on the order)."""
    if not any(str(item.fspath).endswith(".ipynb") for item in items):
        return
    chains = list(CHAINS)

    def key(numbered):
        i, item = numbered
        if not str(item.fspath).endswith(".ipynb"):
            return (len(chains), 0, i)
        chain, place = chain_of(item.fspath.purebasename)
        return (chains.index(chain), place, i)

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return Scheduling(config, log)
