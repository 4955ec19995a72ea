"""Live explorers with ipywidgets, and the static figure shown where widgets cannot run.

Introduced in 01_autoencoders, section 6. ``explore(render, sliders)`` shows sliders that
re-run ``render(**values)`` live in JupyterLab. Where no widget front end is present
(CI, nbconvert, a static HTML export) it shows ``static`` instead, a figure made from a
few preset values, so the executed notebook still carries a picture. CI sets
``$COURSEKIT_STATIC_WIDGETS=1``; outside an IPython kernel the static path is taken too.
"""

from __future__ import annotations

import os

STATIC_ENV = "COURSEKIT_STATIC_WIDGETS"


def widgets_available() -> bool:
    """True inside a Jupyter kernel that is not flagged as headless."""
    if os.environ.get(STATIC_ENV, "0") not in ("", "0"):
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


def explore(render, sliders: dict, static=None):
    """Display ``render`` driven by ``sliders`` (name -> ipywidgets control).

    ``render(**values)`` draws one matplotlib figure for the slider values. ``static()``
    draws the fallback figure; by default ``render`` at the sliders' initial values.
    Returns the widget box (or the static figure).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    if not widgets_available():
        figure = static() if static is not None else render(
            **{name: control.value for name, control in sliders.items()}
        )
        plt.show()
        return figure

    output = widgets.interactive_output(_closing(render), sliders)
    box = widgets.VBox([widgets.HBox(list(sliders.values())), output])
    display(box)
    return box


def _closing(render):
    """Wrap ``render`` so each redraw shows the new figure and frees the old one."""
    import matplotlib.pyplot as plt

    def redraw(**values):
        figure = render(**values)
        plt.show()
        plt.close(figure)

    return redraw
