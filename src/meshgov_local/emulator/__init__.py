"""Patches of moto (pinned: moto==5.2.5) reproducing documented AWS behaviour that moto lacks.

Lambda code never imports this package. Call :func:`install` once per process, before the moto
server (if any) serves its first request; it is idempotent. Each module names the AWS documents it
follows:

- :mod:`.glue_events`: Glue Data Catalog events on the default event bus.
- :mod:`.glue_paging`: Glue ``MaxResults``/``NextToken`` paging and batch limits.
- :mod:`.glue_access`: no cross-account catalog access by ``CatalogId``; ``SkipArchive``.
- :mod:`.glue_search`: ``SearchTables`` (text, filters, sorting, paging).
- :mod:`.sts_trust`: AssumeRole checks that the role exists and trusts the caller.
- :mod:`.lakeformation`: ``SearchTablesByLFTags``/``SearchDatabasesByLFTags``, LF-Tag merging,
  inheritance and lower-casing.
- :mod:`.lakeformation_grants`: grants kept, revoked, batched and listed without moto's crashes.
- :mod:`.lakeformation_sharing`: cross-account grants share the resources through AWS RAM.
- :mod:`.ram_sharing`: RAM invitations (12-hour expiry, accept, reject), organizations, and the
  ``OTHER-ACCOUNTS`` views of shares and resources.
- :mod:`.eventbridge`: event envelope and cross-account delivery, one hop, bus policies,
  disabled rules.
- :mod:`.dynamodb_transactions`: ``TransactWriteItems`` atomic and isolated under concurrency,
  idempotent for a repeated ``ClientRequestToken``.
"""

from __future__ import annotations

import threading

from . import (
    dynamodb_transactions,
    eventbridge,
    glue_access,
    glue_events,
    glue_paging,
    glue_search,
    lakeformation,
    lakeformation_grants,
    lakeformation_sharing,
    ram_sharing,
    sts_trust,
)
from .controls import EmulatorControls, controls
from .iam_bootstrap import ensure_admin_role

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Apply every patch, once."""
    global _installed
    with _lock:
        if _installed:
            return
        # glue_access replaces GlueBackend.update_table, which glue_events then wraps.
        glue_access.install()
        glue_paging.install()
        glue_search.install()
        glue_events.install()
        sts_trust.install()
        lakeformation.install()
        # lakeformation_grants replaces the grant methods, which lakeformation_sharing then wraps.
        lakeformation_grants.install()
        lakeformation_sharing.install()
        ram_sharing.install()
        eventbridge.install()
        dynamodb_transactions.install()
        _installed = True


__all__ = ["EmulatorControls", "controls", "ensure_admin_role", "install"]
