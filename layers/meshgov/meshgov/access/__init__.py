"""Access requests, producer decisions, grants and their expiry (issue 4, in progress)."""
