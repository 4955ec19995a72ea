"""Tools that no notebook imports.

``export`` (the notebooks' ``#@save`` cells → ``coursekit.models``), ``slides`` (slideshow
metadata and the decks), ``bench`` (the benchmark command: one JSON report per run),
``results`` (the results page built from those reports) and ``testing`` (the
mixed-precision and two-replica checks of the unit tests).
"""
