"""Model code exported from the notebooks (see coursekit.export)."""
