"""Thin adapters over boto3: clients are injected, nothing is created at import time."""
