"""One rule for every table meshgov prints (CLI and demo): it fits the terminal, never truncates.

Rich, left alone, squeezes a table wider than the terminal by shortening its widest columns
below their longest word, and cuts what no longer fits with ``…``: at 80 columns ``find`` showed
headers ``do…`` and ``ac…``. A :class:`FitTable` decides at render time, for the width it is
given:

1. Every column should get at least its longest word (its header's included); ``no_wrap``
   columns (ids, states) their whole cell.
2. While that does not fit, the column with the highest ``priority`` number is left out
   (priority 0: never), and a caption names what was left out and how to see it (``--wide``).
3. What remains shares the width: the widest columns give up width first, down to their
   longest word; cell text wraps at spaces. If the essential columns alone still do not fit,
   a cell's longest words (an ARN, say) fold, never a header's, nor a ``no_wrap`` cell.

Nothing is ever cut with ``…``. With ``wide=True`` (``--wide``) nothing is left out: rich
shares the width among every column and cells fold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table

PADDING = 2  # rich's default cell padding (0, 1): one space each side
WIDE_HINT = "--wide shows them"


@dataclass(frozen=True)
class Col:
    """A column: its header, when it is left out, whether its cells may wrap."""

    header: str
    priority: int = 0  # 0: always shown; the highest number is left out first
    no_wrap: bool = False  # ids, codes, times: whole or not at all
    justify: str = "left"


class FitTable:
    """A table that fits the width it is rendered at (see the module docstring for the rule)."""

    def __init__(
        self,
        title: str | None,
        columns: Sequence[Col | str],
        *,
        wide: bool = False,
        empty: str | None = None,
        hint: str = WIDE_HINT,
    ) -> None:
        self.title = title
        self.columns = [c if isinstance(c, Col) else Col(c) for c in columns]
        self.wide = wide
        self.empty = empty
        self.hint = hint
        self.rows: list[tuple[RenderableType, ...]] = []

    def add_row(self, *cells: RenderableType) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(cells)

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.wide:
            yield self._table(range(len(self.columns)), None)
            return
        shown, widths = self._fit(console, options)
        left_out = [self.columns[i].header for i in range(len(self.columns)) if i not in shown]
        caption = (
            f"not shown at this width: {', '.join(left_out)} ({self.hint})" if left_out else None
        )
        yield self._table(shown, caption, widths)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self._table(range(len(self.columns)), None))

    # --- the rule -------------------------------------------------------------------------------

    def _fit(self, console: Console, options: ConsoleOptions) -> tuple[list[int], list[int]]:
        """Which columns are shown, and the content width of each."""
        needs = [self._need(console, options, i) for i in range(len(self.columns))]
        shown = list(range(len(self.columns)))
        while True:
            room = options.max_width - _frame(len(shown))
            if sum(needs[i].word for i in shown) <= room:
                break
            droppable = [i for i in shown if self.columns[i].priority > 0]
            if not droppable:
                break  # only essential columns left: their long words fold
            shown.remove(max(droppable, key=lambda i: (self.columns[i].priority, i)))
        kept = [needs[i] for i in shown]
        widths = _share([n.most for n in kept], [n.word for n in kept], room)
        if sum(widths) > room:  # a cell's long word (an ARN, an id) folds; a header never
            widths = _share(widths, [n.header for n in kept], room)
        return shown, widths

    def _need(self, console: Console, options: ConsoleOptions, index: int) -> _Need:
        column = self.columns[index]
        header = Measurement.get(console, options, console.render_str(column.header)).minimum
        word, most = header, header
        for row in self._rows():
            cell = row[index]
            renderable = console.render_str(cell) if isinstance(cell, str) else cell
            measure = Measurement.get(console, options, renderable)
            word = max(word, measure.maximum if column.no_wrap else measure.minimum)
            most = max(most, measure.maximum)
        hard = word if column.no_wrap else header  # ids and times stay whole
        return _Need(hard, word, max(most, 1))

    def _table(
        self, indexes: Sequence[int], caption: str | None, widths: Sequence[int] | None = None
    ) -> Table:
        """The rich table of the columns ``indexes``, at ``widths`` (content) when given; cell
        text wraps at spaces and folds a word only when a column is narrower than it."""
        table = Table(
            title=self.title,
            title_justify="left",
            caption=caption,
            caption_justify="left",
            caption_style="dim",
        )
        for position, index in enumerate(indexes):
            column = self.columns[index]
            table.add_column(
                column.header,
                overflow="fold",
                justify=column.justify,  # type: ignore[arg-type]
                width=widths[position] if widths is not None else None,
            )
        for row in self._rows():
            table.add_row(*(row[i] for i in indexes))
        return table

    def _rows(self) -> list[tuple[RenderableType, ...]]:
        """The rows, or the one saying there are none (``empty``, in the first column)."""
        if self.rows or self.empty is None:
            return self.rows
        return [(f"[dim]({self.empty})[/]", *[""] * (len(self.columns) - 1))]


def _frame(columns: int) -> int:
    """Width a table of ``columns`` columns takes besides its content: padding and borders."""
    return columns * PADDING + columns + 1


@dataclass(frozen=True)
class _Need:
    """The widths a column's content needs: ``header`` its header's longest word (or, for a
    ``no_wrap`` column, its widest cell), ``word`` its longest word, ``most`` its widest cell."""

    header: int
    word: int
    most: int


def _share(start: Sequence[int], floors: Sequence[int], room: int) -> list[int]:
    """Content widths from ``start``: the widest column gives up width first while the total
    exceeds ``room``, never below its floor."""
    widths = list(start)
    excess = sum(widths) - room
    while excess > 0:
        slack = [i for i, floor in enumerate(floors) if widths[i] > floor]
        if not slack:
            break
        widest = max(slack, key=lambda i: (widths[i], -i))
        widths[widest] -= 1
        excess -= 1
    return widths
