"""The registry of member accounts: who produces (with which domain) and who consumes.

- :mod:`meshgov.registry.store`: the ``RegistryTable`` items and their transactions;
- :mod:`meshgov.registry.directory`: the producers every central function serves, read lazily;
- :mod:`meshgov.registry.members`: ``Member Add Requested`` / ``Member Remove Requested``
  checked, recorded and audited;
- :mod:`meshgov.registry.retirement`: removed producers retired after their grace period.
"""
