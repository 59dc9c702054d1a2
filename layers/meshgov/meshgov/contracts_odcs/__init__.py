"""Data contracts (ODCS v3, Bitol) of published data products: read, validated, kept, enforced.

Not :mod:`meshgov.contracts`, which holds meshgov's *event* schemas. Here:

- :mod:`.document`: an ODCS document read and validated with the ``open-data-contract-standard``
  package's published models (never a hand-written parser), and the terms meshgov enforces;
- :mod:`.terms`: what a contract promises about one Glue table, and the breaches of a change;
- :mod:`.store`: every accepted version kept, and each product's status (the sync ledger table);
- :mod:`.reader`: the contract object read from the producer's S3 through its reader role;
- :mod:`.guard`: the catalog's hook (publication, breach, refusal, audit, events).
- :mod:`.freshness`: the freshness SLA (ODCS ``slaProperties``) and lateness, decided;
  :mod:`.freshness_check`: the catalog sweep's check (breach once, restore, events, audit).
- :mod:`.quality_rules`: the contract's ODCS ``quality`` rules as a DQDL ruleset (what cannot be
  translated listed with its reason).
"""
