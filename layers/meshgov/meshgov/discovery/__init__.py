"""Discovery: finding data products in the central catalog (who owns them, how fresh they are,
which LF-Tags they carry, and whether a given consumer account can already read them)."""

from meshgov.discovery.find import (
    AccessIndex,
    DataProduct,
    DiscoveryError,
    FindQuery,
    FindQueryInvalidError,
    find_products,
    tables_of_domain,
)

__all__ = [
    "AccessIndex",
    "DataProduct",
    "DiscoveryError",
    "FindQuery",
    "FindQueryInvalidError",
    "find_products",
    "tables_of_domain",
]
