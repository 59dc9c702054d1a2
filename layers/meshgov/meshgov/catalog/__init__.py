"""Propagation of producer catalogs into the central catalog (DESIGN.md flow 1)."""
