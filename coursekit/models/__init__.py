"""Model code exported from the notebooks (see coursekit.tools.export)."""
