"""Data-access usage: who read which central table, when, with which engine (issue 14)."""
