"""Row filters: the PartiQL subset Lake Formation accepts in a data cells filter (pure; issue 13).

One home for everything about a row filter expression: checking it, its canonical text (what
meshgov sends as ``RowFilter.FilterExpression``), the columns it names, its translation for an
engine (DuckDB, for ``meshgov query``), and whether a producer's filter only *narrows* the one a
consumer asked for. Parsing is sqlglot's (https://github.com/tobymao/sqlglot), never a hand-made
parser; what this module adds is the subset check and the canonical rendering.

What Lake Formation accepts ("PartiQL support in row filter expressions",
https://docs.aws.amazon.com/lake-formation/latest/dg/partiql-support.html, and "Data filtering
limitations", https://docs.aws.amazon.com/lake-formation/latest/dg/row-filtering-intro.html):

- A *simple expression* ``<column name> <comparison operator> <value>`` with the operators
  ``=, >, <, >=, <=, <>, !=, BETWEEN, IN, LIKE, NOT, IS [NOT] NULL``; columns are compared with
  constants only, never with other columns; string constants in single quotes; a column name
  that clashes with a PartiQL keyword is escaped with double quotes. Constants here are strings,
  numbers (optionally negative) and ``TRUE``/``FALSE`` (BOOLEAN is a supported column type).
- *Composite expressions* combine simple ones with ``AND``/``OR`` and parentheses.
- No function at all ("does not allow any user defined or standard partiQL functions"), hence
  no subquery, cast, typed literal (``DATE '…'``) or arithmetic; nothing else the page does not
  list is accepted either (``ILIKE``, ``LIKE … ESCAPE``, ``IS TRUE``, ``||``, placeholders), nor
  a ``;``, a comment or a second statement.
- A column is a top-level column, a partition column or a nested (struct) field ``a.b``; nested
  fields under a partition column may not be referenced, and ``IS [NOT] NULL`` may not be used
  on a partition column.
- "Total length of the expression must be less than 2048 characters"; the API's
  ``FilterExpression``
  (https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_RowFilter.html) allows 0 to
  2048 characters of the pattern
  ``[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*``.
  meshgov keeps the stricter of the two: at most 2047, and no other control character.

Not checked here (the table's column *types* are not passed in): that a constant matches its
column's type, and that the column's type is one the page lists (no array or map).

Canonical text: every top-level column in lower case (Glue stores column names in lower case)
and double-quoted (so a column named like a keyword works), nested field names as written,
operators in upper case, ``!=`` written ``<>``, negations written ``x NOT IN``, ``x NOT LIKE``,
``x NOT BETWEEN``, ``x IS NOT NULL`` (double negations cancel: ``NOT NOT p`` is ``p`` in SQL's
three-valued logic), redundant parentheses dropped and the needed ones added back, so two
spellings of one filter have one text.

Narrowing rule (``narrows``): a producer may only make a consumer's row filter stricter. The rule
is sound and simple, not complete: every top-level ``AND`` term (conjunct) of the original, in
canonical form, must be a conjunct of the narrowed filter. The narrowed filter is then
``original AND more`` (a row passes a filter only where it evaluates to TRUE, and an ``AND`` is
TRUE only where every term is), so it can only return fewer rows. ``None`` means all rows
(``AllRowsWildcard``): anything narrows it, and it widens anything else. A stricter filter of
another shape (``country IN ('DE')`` for ``country IN ('DE', 'FR')``) is refused; the producer
adds a conjunct instead (``country IN ('DE', 'FR') AND country = 'DE'``).

sqlglot is imported lazily (inside the functions that need it): it costs about 100 ms of cold
import, which a Lambda handler should pay only when a request actually carries a row filter.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from meshgov.errors import MeshgovError

if TYPE_CHECKING:
    from sqlglot import exp

MAX_LENGTH = 2047  # "must be less than 2048 characters" (the stricter of the two documents)

ROW_FILTER_INVALID = "RowFilterInvalid"  # not an expression at all: syntax, `;`, comments, empty
ROW_FILTER_UNSUPPORTED = "RowFilterUnsupported"  # valid SQL outside Lake Formation's subset
ROW_FILTER_TOO_LONG = "RowFilterTooLong"
ROW_FILTER_COLUMN_UNKNOWN = "RowFilterColumnUnknown"

# RowFilter.FilterExpression's documented pattern, as a character class.
_ALLOWED_CHARACTERS = re.compile(r"[\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff\r\n\t]*")
_OPERATORS: dict[str, str] = {
    "eq": "=",
    "neq": "<>",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
}
_SHOWN_COLUMNS = 20
_CLASS_REPR = re.compile(r"<class '(?:\w+\.)*(\w+)'>")


class RowFilterInvalidError(MeshgovError):
    """A row filter Lake Formation would refuse (or meshgov cannot check); ``code`` names the
    rule, the message says what is wrong and where (a 1-based character position)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class RowFilter:
    """A checked row filter; build it with :func:`parse_row_filter`.

    ``text``: the canonical expression, as sent to Lake Formation. ``columns``: the top-level
    columns it names (sorted, lower case). ``conjuncts``: its top-level ``AND`` terms, each in
    canonical form (an ``OR`` term without its enclosing parentheses).
    """

    text: str
    columns: tuple[str, ...]
    conjuncts: tuple[str, ...]

    def to_sql(self, dialect: str = "duckdb") -> str:
        """The expression in ``dialect``'s SQL (sqlglot's translation), every identifier quoted
        so that a column named like a keyword of that engine still works."""
        import sqlglot

        return sqlglot.transpile(self.text, write=dialect, identify=True)[0]


def parse_row_filter(
    text: str, columns: Collection[str], *, partition_columns: Collection[str] = ()
) -> RowFilter:
    """Check ``text`` against Lake Formation's row filter subset and the table's ``columns``
    (names compared case-insensitively; ``partition_columns`` are among them), or raise
    :class:`RowFilterInvalidError`."""
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import ParseError, SqlglotError
    from sqlglot.tokenizer_core import TokenType

    if len(text) > MAX_LENGTH:
        raise RowFilterInvalidError(
            ROW_FILTER_TOO_LONG,
            f"the row filter is {len(text)} characters long; Lake Formation takes fewer than "
            f"{MAX_LENGTH + 1}",
        )
    if not _ALLOWED_CHARACTERS.fullmatch(text):
        position = next(i for i, c in enumerate(text) if not _ALLOWED_CHARACTERS.fullmatch(c))
        raise RowFilterInvalidError(
            ROW_FILTER_INVALID,
            f"the row filter has a control character (U+{ord(text[position]):04X}) at character "
            f"{position + 1}",
        )
    if not text.strip():
        raise RowFilterInvalidError(
            ROW_FILTER_INVALID, "the row filter is empty (send no row filter for all rows)"
        )
    dialect = Dialect.get_or_raise(None)
    try:
        tokens = dialect.tokenize(text)
        for token in tokens:
            if token.token_type == TokenType.SEMICOLON:
                raise RowFilterInvalidError(
                    ROW_FILTER_INVALID,
                    f"the row filter has a ';' at character {token.start + 1}: it is one "
                    "expression, not statements",
                )
            if token.comments:
                raise RowFilterInvalidError(
                    ROW_FILTER_INVALID,
                    f"the row filter has a comment near character {token.start + 1}: comments "
                    "are not part of a row filter",
                )
        trees = dialect.parser().parse(tokens, text)
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        description = _CLASS_REPR.sub(r"\1", str(first.get("description", error)))
        raise RowFilterInvalidError(
            ROW_FILTER_INVALID,
            f"the row filter is not a valid expression: {description} "
            f"(line {first.get('line', '?')}, column {first.get('col', '?')}, "
            f"near {first.get('highlight', '')!r})",
        ) from None
    except SqlglotError as error:
        raise RowFilterInvalidError(
            ROW_FILTER_INVALID,
            "the row filter is not a valid expression (an unterminated quote, or a character "
            f"that is not SQL): {error}",
        ) from None
    if len(trees) != 1 or trees[0] is None:
        raise RowFilterInvalidError(ROW_FILTER_INVALID, "the row filter is not one expression")
    checker = _Checker(columns, partition_columns)
    canonical = checker.predicate(trees[0])
    conjuncts = tuple(checker.predicate(term) for term in _flatten(trees[0], "and"))
    if len(canonical) > MAX_LENGTH:
        raise RowFilterInvalidError(
            ROW_FILTER_TOO_LONG,
            f"the row filter's canonical form (quoted column names) is {len(canonical)} "
            f"characters long; Lake Formation takes fewer than {MAX_LENGTH + 1}",
        )
    return RowFilter(text=canonical, columns=tuple(sorted(checker.used)), conjuncts=conjuncts)


def narrows(original: RowFilter | None, narrowed: RowFilter | None) -> bool:
    """True when ``narrowed`` can only return rows ``original`` returns (the module's rule:
    every conjunct of ``original`` is a conjunct of ``narrowed``; ``None`` is all rows)."""
    if original is None:
        return True
    if narrowed is None:
        return False
    return set(original.conjuncts) <= set(narrowed.conjuncts)


# --- the subset check and canonical rendering ------------------------------------------------


def _unparen(node: exp.Expr) -> exp.Expr:
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _core(node: exp.Expr) -> exp.Expr:
    """``node`` without enclosing parentheses and double negations (``NOT NOT p`` is ``p`` in
    SQL's three-valued logic)."""
    node = _unparen(node)
    while node.key == "not" and _unparen(node.this).key == "not":
        node = _unparen(_unparen(node.this).this)
    return node


def _flatten(node: exp.Expr, key: str) -> list[exp.Expr]:
    """The operands of a chain of ``key`` ("and"/"or") through parentheses."""
    node = _core(node)
    if node.key != key:
        return [node]
    return [*_flatten(node.this, key), *_flatten(node.expression, key)]


def _position(node: exp.Expr) -> str:
    """Where ``node`` starts in the text (sqlglot keeps token offsets on some nodes)."""
    starts = [int(c.meta["start"]) for c in node.walk() if c.meta and "start" in c.meta]
    return f" at character {min(starts) + 1}" if starts else ""


class _Checker:
    """Walks one parsed expression: refuses what is outside the subset, renders the rest."""

    def __init__(self, columns: Collection[str], partition_columns: Collection[str]) -> None:
        self.known = sorted({c.lower() for c in columns})
        self.partitions = {c.lower() for c in partition_columns}
        self.used: set[str] = set()

    # Boolean structure ----------------------------------------------------------------------
    def predicate(self, node: exp.Expr) -> str:
        node = _core(node)
        if node.key in ("and", "or"):
            other = "or" if node.key == "and" else "and"
            parts = []
            for operand in _flatten(node, node.key):
                rendered = self.predicate(operand)
                parts.append(f"({rendered})" if operand.key == other else rendered)
            return f" {node.key.upper()} ".join(parts)
        if node.key == "not":
            return self._negated(node.this)
        return self._simple(node, negated=False)

    def _negated(self, node: exp.Expr) -> str:
        node = _core(node)  # not a NOT: predicate() took double negations away
        if node.key in ("in", "between", "like", "is"):
            return self._simple(node, negated=True)
        return f"NOT ({self.predicate(node)})"

    # Simple expressions: <column> <operator> <value> ------------------------------------------
    def _simple(self, node: exp.Expr, negated: bool) -> str:
        key = node.key
        if key in _OPERATORS:
            column, _ = self._column(node.this, node.expression)
            return f"{column} {_OPERATORS[key]} {self._constant(node.expression, column)}"
        if key == "in":
            for name in ("query", "unnest", "field"):
                if node.args.get(name) is not None:
                    raise self._refusal(node.args[name])
            column, _ = self._column(node.this, None)
            values = ", ".join(self._constant(v, column) for v in node.expressions)
            return f"{column} {'NOT IN' if negated else 'IN'} ({values})"
        if key == "between":
            if node.args.get("symmetric"):
                raise self._unsupported(node, "BETWEEN SYMMETRIC is not in the subset")
            column, _ = self._column(node.this, None)
            low = self._constant(node.args["low"], column)
            high = self._constant(node.args["high"], column)
            return f"{column} {'NOT BETWEEN' if negated else 'BETWEEN'} {low} AND {high}"
        if key == "like":
            column, _ = self._column(node.this, None)
            pattern = _unparen(node.expression)
            if not (pattern.key == "literal" and pattern.args.get("is_string")):
                raise self._unsupported(
                    node.expression, "a LIKE pattern is a string constant in single quotes"
                )
            negated = negated != bool(node.args.get("negate"))
            return f"{column} {'NOT LIKE' if negated else 'LIKE'} {pattern.sql()}"
        if key == "is":
            column, root = self._column(node.this, None)
            if _unparen(node.expression).key != "null":
                raise self._unsupported(node, "IS is only IS NULL or IS NOT NULL")
            if root in self.partitions:
                raise self._unsupported(
                    node, f"IS [NOT] NULL cannot be used on partition column {root!r}"
                )
            negated = negated != bool(node.args.get("negate"))
            return f"{column} {'IS NOT NULL' if negated else 'IS NULL'}"
        if key == "escape":
            raise self._unsupported(node, "LIKE has no ESCAPE clause in the subset")
        if key == "ilike":
            raise self._unsupported(node, "ILIKE is not in the subset (LIKE is case-sensitive)")
        if key in ("column", "dot"):
            raise self._unsupported(
                node, "a column alone is not a condition: compare it with a constant"
            )
        raise self._refusal(node)

    def _column(self, node: exp.Expr, other: exp.Expr | None) -> tuple[str, str]:
        """The rendered column reference and its top-level column, or refused."""
        node = _unparen(node)
        path = _path(node)
        if path is None:
            if other is not None and _path(_unparen(other)) is not None:
                raise self._unsupported(
                    node, "write the column first: a simple expression is <column> <op> <value>"
                )
            raise self._refusal(node)
        root = path[0].name.lower()
        if root not in self.known:
            shown = ", ".join(self.known[:_SHOWN_COLUMNS]) or "none"
            more = " …" if len(self.known) > _SHOWN_COLUMNS else ""
            raise RowFilterInvalidError(
                ROW_FILTER_COLUMN_UNKNOWN,
                f"the row filter names column {path[0].name!r}{_position(node)}, which the table "
                f"does not have (its columns: {shown}{more})",
            )
        if len(path) > 1 and root in self.partitions:
            raise self._unsupported(
                node, f"nested fields under partition column {root!r} cannot be referenced"
            )
        self.used.add(root)
        rendered = ".".join(
            [_quoted(root), *(part.sql() if part.quoted else part.name for part in path[1:])]
        )
        return rendered, root

    def _constant(self, node: exp.Expr, column: str) -> str:
        from sqlglot import exp

        node = _unparen(node)
        if isinstance(node, exp.Literal):
            return node.sql()
        if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and node.this.is_number:
            return f"-{node.this.sql()}"
        if isinstance(node, exp.Boolean):
            return "TRUE" if node.this else "FALSE"
        if isinstance(node, exp.Null):
            raise self._unsupported(node, "compare with NULL using IS NULL or IS NOT NULL")
        path = _path(node)
        if path is not None:
            hint = (
                " (string constants take single quotes; double quotes name a column)"
                if path[0].quoted
                else ""
            )
            raise self._unsupported(
                node,
                f"{column} is compared with column {node.sql()}: Lake Formation compares columns "
                f"only with constants{hint}",
            )
        raise self._refusal(node)

    # Refusals --------------------------------------------------------------------------------
    def _unsupported(self, node: exp.Expr, why: str) -> RowFilterInvalidError:
        return RowFilterInvalidError(
            ROW_FILTER_UNSUPPORTED,
            f"the row filter's {node.sql()!r}{_position(node)} is not allowed: {why}",
        )

    def _refusal(self, node: exp.Expr) -> RowFilterInvalidError:
        """The clearest reason for a construct outside the subset."""
        from sqlglot import exp

        for child in node.walk():
            if isinstance(child, exp.Query | exp.Subquery | exp.Exists):
                return self._unsupported(child, "a row filter has no subquery")
        for child in node.walk():
            if isinstance(child, exp.Cast):
                return self._unsupported(
                    child, "no cast or typed literal: constants are strings, numbers, TRUE, FALSE"
                )
            if isinstance(child, exp.Func):
                return self._unsupported(child, "Lake Formation allows no function in a row filter")
            if isinstance(child, exp.Placeholder | exp.Parameter):
                return self._unsupported(child, "a row filter has no parameters")
        return self._unsupported(
            node,
            "a row filter is <column> <op> <constant> (=, <>, !=, <, <=, >, >=, BETWEEN, IN, "
            "LIKE, IS [NOT] NULL) combined with AND, OR, NOT and parentheses",
        )


def _path(node: exp.Expr) -> list[exp.Identifier] | None:
    """The identifiers of a column reference ``a`` or ``a.b.c`` (struct fields), else None."""
    from sqlglot import exp

    if isinstance(node, exp.Column):
        parts = [p for p in node.parts if isinstance(p, exp.Identifier)]
        return parts if len(parts) == len(node.parts) else None
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Identifier):
        left = _path(node.this)
        return None if left is None else [*left, node.expression]
    return None


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
