"""Model instances read straight from SQL rows, for the pages' hottest reads.

The ORM's compiler takes longer to write a join of three or four models
with deferred columns than PostgreSQL takes to plan and run it (1.6 ms of
Python against under 1 ms for the article page's own row at 1,000,000
articles, bench/NOTES-pages.md). These reads write their column lists once
and build the same instances the ORM would: Model.from_db, deferred fields
and all, with each column's converters applied.

On PostgreSQL they run as prepared statements (`cursor()`): planning took
more of PostgreSQL's time than running them (an uncached article page's
five reads: 2.0 ms of planning against 1.0 of execution at 1,000,000
articles, bench/NOTES-pages.md), and a connection plans each once. A list
goes in as one array parameter (`any_of`), so that a statement's text does
not change with the list's length.
"""

import functools

from django.db import connection


class Columns:
    """One model's columns in a SELECT, under a table alias."""

    def __init__(self, model, alias, exclude):
        self.model = model
        fields = [field for field in model._meta.concrete_fields if field.name not in exclude]
        self.names = [field.attname for field in fields]
        self.sql = ", ".join(
            f"{alias}.{connection.ops.quote_name(field.column)}" for field in fields
        )
        self.converters = []
        for n, field in enumerate(fields):
            col = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found:
                self.converters.append((n, found, col))
        self.pk_index = self.names.index(model._meta.pk.attname)

    def build(self, values):
        """The instance of `values` (this part of a row), or None for a LEFT JOIN's miss."""
        if values[self.pk_index] is None:
            return None
        values = list(values)
        for n, found, col in self.converters:
            for converter in found:
                values[n] = converter(values[n], col, connection)
        return self.model.from_db(connection.alias, self.names, values)


class Value:
    """One plain value the SQL selects after the models' columns (an EXISTS, a count)."""

    names = [None]

    def build(self, values):
        return values[0]


@functools.cache
def _columns(model, alias, exclude, vendor):
    return Columns(model, alias, exclude)


def columns(model, alias, exclude=(), only=None):
    """`model`'s columns but `exclude`, or `only` those (field names), worked out
    once per database kind."""
    if only is not None:
        exclude = [field.name for field in model._meta.concrete_fields if field.name not in only]
    return _columns(model, alias, frozenset(exclude), connection.vendor)


def cursor():
    """A cursor for these reads: on PostgreSQL one whose parameters go apart
    from the statement, which psycopg prepares once the connection has run
    it a few times (OPTIONS' prepare_threshold, aggregator/settings.py)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.validate_thread_sharing()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)
    # As Django wraps its own cursors: errors, execute_wrapper, queries logged.
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def any_of(column, values):
    """(SQL, params): `column` is one of `values` (not empty)."""
    values = list(values)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def none_of(column, values):
    """(SQL, params): `column` is none of `values` (not empty)."""
    values = list(values)
    if connection.vendor == "postgresql":
        return f"{column} <> ALL(%s)", [values]
    return f"{column} NOT IN ({', '.join(['%s'] * len(values))})", values


def read(sql, params, *parts):
    """The rows of `sql` as tuples of instances, one per part of `parts`.

    `sql` selects each part's columns in order: "{0}", "{1}"... stand for
    their lists.
    """
    for n, part in enumerate(parts):
        if isinstance(part, Columns):
            sql = sql.replace(f"{{{n}}}", part.sql)
    with cursor() as found:
        found.execute(sql, params)
        rows = found.fetchall()
    bounds = []
    start = 0
    for part in parts:
        bounds.append((part, start, start + len(part.names)))
        start += len(part.names)
    return [tuple(part.build(row[begin:end]) for part, begin, end in bounds) for row in rows]


def cards(sql, params, *extras, only=None):
    """Articles with their sources, as Article.objects.for_list() gives them, from
    `sql` selecting {columns} (the article's card columns as a, its source's as
    s), then one value for each name of `extras`, set on the article.
    `only`: (article fields, source fields), for a read that needs fewer."""
    from .models import HEAVY_COLUMNS, Article, Source

    if only is None:
        parts = [columns(Article, "a", exclude=HEAVY_COLUMNS), columns(Source, "s")]
    else:
        parts = [columns(Article, "a", only=only[0]), columns(Source, "s", only=only[1])]
    parts += [Value() for _ in extras]
    result = []
    for article, source, *values in read(sql.replace("{columns}", "{0}, {1}"), params, *parts):
        article.source = source
        for name, value in zip(extras, values):
            setattr(article, name, value)
        result.append(article)
    return result
