"""``make bench``: how many AWS calls meshgov's propagation costs, measured on the local mesh.

Every scenario runs the real handlers (``functions/catalog_sync``, ``functions/catalog_sweep``)
in-process against the emulated AWS of :mod:`meshgov_local` (moto plus the documented behaviour it
lacks: Glue events, pages of at most 100, ``SearchTablesByLFTags``). Calls are counted at
``botocore``'s ``BaseClient._make_api_call``, once per request as AWS would serve it (a paginator
page is one call). See :mod:`bench.counting` for what counts as a read, a write or bookkeeping.
"""
