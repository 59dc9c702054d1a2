"""Data quality (issue 15): Glue Data Quality results attached to the central tables, with history.

A producer's ruleset run on one of its published tables ends in a ``Data Quality Evaluation
Results Available`` event (:mod:`meshgov.contracts.quality_events`) that its member stack
forwards to central; the catalog sync function records it (:mod:`.recorder`): the latest result
as central table parameters (:mod:`.parameters`), every result in the history table
(:mod:`.store`). ADR 0017 says why.

:mod:`.dqdl` parses the DQDL subset meshgov writes and the local mesh evaluates.
"""
