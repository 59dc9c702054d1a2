"""Glue name rules, checked before a name reaches any API.

Glue's API accepts 1-255 characters of a "single-line string"
(https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-common.html#aws-glue-api-regex-oneLine)
and stores database and table names in lower case
(https://docs.aws.amazon.com/glue/latest/dg/define-database.html).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# fullmatch: with match, "$" also matches before a trailing line break, so "t0\n" passed.
_SINGLE_LINE = re.compile(r"[\u0020-\uD7FF\uE000-\uFFFD\t]{1,255}")


def check_glue_name(value: str) -> str:
    if not _SINGLE_LINE.fullmatch(value):
        raise ValueError(f"not a valid Glue name: {value[:80]!r}")
    return value


GlueName = Annotated[str, AfterValidator(check_glue_name)]
