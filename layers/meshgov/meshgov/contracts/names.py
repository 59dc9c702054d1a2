"""Glue name rules, checked before a name reaches any API.

Glue's API accepts 1-255 characters of a "single-line string"
(https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-common.html#aws-glue-api-regex-oneLine)
and stores database and table names in lower case
(https://docs.aws.amazon.com/glue/latest/dg/define-database.html).

What meshgov publishes must also be queryable with Athena, the consumers' query engine
(https://docs.aws.amazon.com/athena/latest/ug/tables-databases-columns-names.html): names "must be
a UTF-8 string and should be in lower case", "not less than 1 or more than 255 bytes long";
leading spaces are allowed by Glue but "hard to detect and can cause usability issues". meshgov
holds published database and table names to the rule Athena's guide long gave for them - lower
case letters, numbers and the underscore - read for Unicode: letters with no upper case (``Ll``,
``Lo``, ``Lm``), the combining marks they take (``Mn``, ``Mc``), decimal digits (``Nd``) and ``_``.
Spaces, punctuation, symbols, format and control characters are refused.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

# fullmatch: with match, "$" also matches before a trailing line break, so "t0\n" passed.
_SINGLE_LINE = re.compile(r"[\u0020-\uD7FF\uE000-\uFFFD\t]{1,255}")


def check_glue_name(value: str) -> str:
    if not _SINGLE_LINE.fullmatch(value):
        raise ValueError(f"not a valid Glue name: {value[:80]!r}")
    return value


GlueName = Annotated[str, AfterValidator(check_glue_name)]


ATHENA_NAME_MAX_BYTES = 255
_ATHENA_CATEGORIES = frozenset({"Ll", "Lo", "Lm", "Mn", "Mc", "Nd"})


def athena_name_problem(name: str) -> str | None:
    """Why Athena could not query a database or table of this name, or None if it can.

    The rule is the module docstring's; the first character breaking it is named, with its code
    point, so a producer can find an invisible one.
    """
    size = len(name.encode("utf-8", errors="surrogatepass"))
    if not 1 <= size <= ATHENA_NAME_MAX_BYTES:
        return f"is {size} bytes in UTF-8; Athena takes 1-{ATHENA_NAME_MAX_BYTES}"
    for char in name:
        if char == "_" or unicodedata.category(char) in _ATHENA_CATEGORIES:
            continue
        what = unicodedata.name(char, "unnamed character")
        if unicodedata.category(char) in ("Lu", "Lt"):
            return f"has the upper-case U+{ord(char):04X} ({what}); Athena names are lower case"
        return (
            f"has U+{ord(char):04X} ({what}); Athena names hold lower-case letters, digits and "
            "underscores only"
        )
    return None
