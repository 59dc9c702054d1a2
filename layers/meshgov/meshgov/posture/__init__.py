"""The compliance posture (issue 5): who can read what, why, until when, and the drift."""

from meshgov.posture.catalog import ProducerSource
from meshgov.posture.reader import PostureReadError, posture, read_inputs
from meshgov.posture.report import PostureInputs, PostureReport, Product, build_report

__all__ = [
    "PostureInputs",
    "PostureReadError",
    "PostureReport",
    "ProducerSource",
    "Product",
    "build_report",
    "posture",
    "read_inputs",
]
