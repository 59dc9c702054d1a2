"""Patches of moto (pinned: moto==5.2.5) reproducing documented AWS behaviour that moto lacks.

Lambda code never imports this package. Call :func:`install` once per process, before the moto
server (if any) serves its first request; it is idempotent. Each module names the AWS documents it
follows:

- :mod:`.glue_events`: Glue Data Catalog events on the default event bus.
- :mod:`.glue_paging`: Glue ``MaxResults``/``NextToken`` paging and batch limits;
  ``BatchGetPartition`` ``UnprocessedKeys`` on demand (:class:`EmulatorControls`).
- :mod:`.glue_access`: no cross-account catalog access by ``CatalogId``; ``SkipArchive``.
- :mod:`.glue_search`: ``SearchTables`` (text, filters, sorting, paging).
- :mod:`.glue_names`: database and table names stored and looked up in lower case.
- :mod:`.glue_dataquality`: Glue Data Quality rulesets and evaluation runs on Data Catalog tables
  (a DQDL subset evaluated on the table's Parquet data with DuckDB, :mod:`meshgov_local.dqdl`),
  ``Data Quality Evaluation Results Available`` on the default bus.
- :mod:`.glue_clock`: Glue's ``CreationTime``/``UpdateTime`` stamps follow the emulated clock.
- :mod:`.glue_links`: ``GetDatabase``/``GetDatabases`` follow a database resource link to its
  target's properties.
- :mod:`.sts_trust`: AssumeRole checks that the role exists and trusts the caller.
- :mod:`.iam_enforcement`: every request signed by a role session is authorized as IAM would
  (identity, session and resource policies, :mod:`.iam_policy`; actions and resources,
  :mod:`.iam_requests`); session tags are kept.
- :mod:`.glue_lakeformation`: Glue calls pass Lake Formation's check (writes need their
  permission, reads show what the caller may describe; creators and ``IAMAllowedPrincipals``
  defaults), decided by :mod:`.lakeformation_permissions`.
- :mod:`.lakeformation`: ``SearchTablesByLFTags``/``SearchDatabasesByLFTags``, LF-Tag merging,
  inheritance and lower-casing.
- :mod:`.lakeformation_grants`: grants kept, revoked, batched and listed without moto's crashes.
- :mod:`.lakeformation_grantors`: who may grant or revoke (administrators, creators, the grant
  option; the grantor's IAM rights on Glue and RAM for what Lake Formation does on its behalf).
- :mod:`.lakeformation_sharing`: cross-account grants share the resources through AWS RAM.
- :mod:`.lakeformation_filters`: data cells filters (create, get, list, update, delete), who may
  use them, grants on them; what they let a principal read is decided in
  :mod:`.lakeformation_permissions`.
- :mod:`.lakeformation_principals`: grants only to IAM roles and users that exist
  (``InvalidInputException`` otherwise).
- :mod:`.lakeformation_locations`: ``RegisterResource`` (an S3 location, an existing role the
  caller may pass, ``iam:PassRole``), ``ListResources`` paging, ``VerificationStatus``.
- :mod:`.lakeformation_vending`: for integrated engines, ``glue:GetUnfilteredTableMetadata``
  (authorized columns, cell filters, ``PermissionTypeMismatchException``) and
  ``GetTemporaryGlueTableCredentials`` (a registered location's role, scoped down to the table's
  prefix by a session policy), each vending recorded as the CloudTrail event ``GetDataAccess`` on
  the caller's default bus.
- :mod:`.ram_sharing`: RAM invitations (12-hour expiry, accept, reject), organizations, and the
  ``OTHER-ACCOUNTS`` views of shares and resources; ``ListPendingInvitationResources``; account
  principals of ``CreateResourceShare`` (a subnet, any shareable type) invited too.
- :mod:`.eventbridge`: event envelope and cross-account delivery, one hop, bus policies,
  disabled rules, read-only CloudTrail management events only for rules that ask for them.
- :mod:`.eventbridge_limits`: a customer's ``PutEvents``: at most 10 entries, total entry size
  under 1 MB, ``aws.*`` sources refused.
- :mod:`.s3_bucket_owner`: the bucket owner condition (``ExpectedBucketOwner``) on object
  operations: another account's bucket is 403 ``AccessDenied``.
- :mod:`.dynamodb_transactions`: ``TransactWriteItems`` atomic and isolated under concurrency,
  idempotent for a repeated ``ClientRequestToken``.
"""

from __future__ import annotations

import threading

from meshgov_local.pins import require_pinned

from . import (
    dynamodb_transactions,
    eventbridge,
    eventbridge_limits,
    glue_access,
    glue_clock,
    glue_dataquality,
    glue_events,
    glue_lakeformation,
    glue_links,
    glue_names,
    glue_paging,
    glue_search,
    iam_enforcement,
    lakeformation,
    lakeformation_filters,
    lakeformation_grantors,
    lakeformation_grants,
    lakeformation_locations,
    lakeformation_principals,
    lakeformation_sharing,
    lakeformation_vending,
    ram_sharing,
    s3_bucket_owner,
    sts_trust,
)
from .controls import EmulatorControls, controls
from .iam_bootstrap import ensure_admin_role

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Apply every patch, once.

    Raises :class:`meshgov_local.pins.PinMismatchError` before patching anything when the
    installed moto is not the version pinned in pyproject.toml: the patches replace internals of
    that version, which another one may have renamed or changed silently.
    """
    global _installed
    with _lock:
        if _installed:
            return
        require_pinned("moto", "the local mesh's emulator (meshgov_local.emulator)")
        # glue_access replaces GlueBackend.update_table, which glue_events then wraps.
        glue_access.install()
        glue_clock.install()
        glue_paging.install()
        glue_search.install()
        glue_events.install()
        # glue_names wraps outermost, so glue_events sees (and its events name) the stored names.
        glue_names.install()
        # glue_links wraps GetDatabases as glue_paging replaced it.
        glue_links.install()
        glue_dataquality.install()
        sts_trust.install()
        iam_enforcement.install()
        # glue_lakeformation wraps call_action outermost: IAM, then Lake Formation, then moto.
        glue_lakeformation.install()
        lakeformation.install()
        # lakeformation_grants replaces the grant methods, which lakeformation_sharing then wraps.
        lakeformation_grants.install()
        lakeformation_sharing.install()
        # lakeformation_grantors wraps outermost: who may grant is checked before anything moves.
        lakeformation_grantors.install()
        # lakeformation_filters wraps grant_permissions outermost: a grant on a filter must name
        # one that exists (and valid permissions) before who may grant it is asked.
        lakeformation_filters.install()
        # lakeformation_principals wraps outermost: a principal that does not exist is invalid
        # input, refused before the filter or the grantor is looked at.
        lakeformation_principals.install()
        lakeformation_locations.install()
        lakeformation_vending.install()
        ram_sharing.install()
        eventbridge.install()
        eventbridge_limits.install()
        dynamodb_transactions.install()
        s3_bucket_owner.install()
        _installed = True


__all__ = ["EmulatorControls", "controls", "ensure_admin_role", "install"]
