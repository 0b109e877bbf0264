"""Experiments: end-to-end recipes (the quickstart) and, later, grids of runs."""
