"""The consumer's SQL, as the engine sees it before running it: parsed with sqlglot (DuckDB
dialect), checked to be one read-only query over ``database.table`` names, and rewritten to run
on the engine's own in-memory relations.

Why so strict: the SQL runs in an embedded DuckDB, which can read local files and call table
functions. A query may only name tables of the Data Catalog (``<resource link>.<table>``), the
way an integrated engine resolves them through Glue; anything else (a file path, ``read_csv``, a
bare name that could reach the engine's own relations) is refused before anything is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

DIALECT = "duckdb"


class QuerySqlError(ValueError):
    """SQL the engine will not run: not one SELECT, or a source that is not ``db.table``."""


@dataclass(frozen=True, order=True)
class TableRef:
    """A table the query names: ``database`` is a database (or resource link) of the caller's
    catalog, as Athena resolves ``db.table`` in ``AwsDataCatalog``."""

    database: str
    table: str

    def __str__(self) -> str:
        return f"{self.database}.{self.table}"


def parse_query(sql: str) -> exp.Query:
    """One read-only query (``SELECT``, ``WITH ... SELECT``, set operations) or QuerySqlError."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except ParseError as exc:
        raise QuerySqlError(f"SYNTAX_ERROR: {exc}") from exc
    if len(statements) != 1:
        raise QuerySqlError(
            f"NOT_SUPPORTED: one SELECT statement is expected, got {len(statements)} statements"
        )
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise QuerySqlError(
            f"NOT_SUPPORTED: only SELECT queries are supported, got {statement.key.upper()}"
        )
    for node in statement.walk():
        if isinstance(node, exp.Into | exp.Insert | exp.Create | exp.Delete | exp.Update):
            raise QuerySqlError("NOT_SUPPORTED: only SELECT queries are supported")
    return statement


def _cte_names(query: exp.Expr) -> set[str]:
    return {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}


def table_refs(query: exp.Expr) -> list[TableRef]:
    """The catalog tables the query reads, each once, sorted; QuerySqlError for any other
    source (a table function, a file, a name without its database, a catalog prefix)."""
    ctes = _cte_names(query)
    found: set[TableRef] = set()
    for table in query.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise QuerySqlError(
                f"NOT_SUPPORTED: only catalog tables (database.table) can be queried, "
                f"not {table.this.sql(dialect=DIALECT)}"
            )
        if table.catalog:
            raise QuerySqlError(
                f"NOT_SUPPORTED: name tables as database.table, without a catalog: {table.sql()}"
            )
        if not table.db:
            if table.name.lower() in ctes:
                continue
            raise QuerySqlError(
                f"TABLE_NOT_FOUND: name the table with its database (database.table): "
                f"{table.name!r}"
            )
        found.add(TableRef(table.db.lower(), table.name.lower()))
    if not found:
        raise QuerySqlError("NOT_SUPPORTED: the query reads no catalog table")
    return sorted(found)


def selects_star(query: exp.Expr) -> bool:
    """Whether a projection is ``*`` or ``t.*`` (``count(*)`` reads no column)."""
    for select in query.find_all(exp.Select):
        for projection in select.expressions:
            if isinstance(projection, exp.Star) or (
                isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
            ):
                return True
    return False


@dataclass(frozen=True)
class ColumnUse:
    """A column the query names: ``qualifier`` is the table or alias before the dot, if any."""

    name: str
    qualifier: str


def column_uses(query: exp.Expr) -> list[ColumnUse]:
    """Every column reference, lower-cased (Glue column names are lower case)."""
    return [
        ColumnUse(column.name.lower(), column.table.lower())
        for column in query.find_all(exp.Column)
        if not isinstance(column.this, exp.Star)
    ]


def output_aliases(query: exp.Expr) -> set[str]:
    """Names the query itself defines (``AS`` aliases, CTE column lists), which may be referred
    to like columns (``ORDER BY total``)."""
    names = {alias.alias.lower() for alias in query.find_all(exp.Alias) if alias.alias}
    for table_alias in query.find_all(exp.TableAlias):
        names.update(c.name.lower() for c in table_alias.columns)
    return names


def aliases_of(query: exp.Expr) -> dict[str, TableRef]:
    """``alias or table name -> TableRef``: how columns may qualify each catalog table."""
    result: dict[str, TableRef] = {}
    for table in query.find_all(exp.Table):
        if not table.db:
            continue
        ref = TableRef(table.db.lower(), table.name.lower())
        result[table.name.lower()] = ref
        if table.alias:
            result[table.alias.lower()] = ref
    return result


def rewrite(query: exp.Query, relations: Mapping[TableRef, str]) -> str:
    """The query with each catalog table replaced by the engine's relation for it; the table
    keeps its alias (or gets its own name as one), so ``orders.id`` still resolves."""
    copy = query.copy()
    for table in list(copy.find_all(exp.Table)):
        if not table.db:
            continue
        ref = TableRef(table.db.lower(), table.name.lower())
        alias = table.alias or table.name
        replacement = exp.Table(
            this=exp.to_identifier(relations[ref], quoted=True),
            alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)),
        )
        table.replace(replacement)
    for column in copy.find_all(exp.Column):
        # db.table.column: the table's alias now carries the qualification.
        if column.args.get("db"):
            column.set("db", None)
            column.set("catalog", None)
    return copy.sql(dialect=DIALECT)


def quote_identifier(name: str) -> str:
    """A column or relation name as DuckDB reads it, quoted."""
    return exp.to_identifier(name, quoted=True).sql(dialect=DIALECT)


def names(refs: Iterable[TableRef]) -> str:
    return ", ".join(str(r) for r in refs)
