"""Number the pages of a long list the same way everywhere (backlinks, search results)."""

from __future__ import annotations


class Paged:
    """Add page arithmetic to a class with ``total``, ``page`` (from 1) and ``size`` attributes."""

    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None

    @property
    def previous(self) -> int | None:
        return self.page - 1 if self.page > 1 else None


MAX_PAGE = 1_000_000_000  # beyond any real list; keeps OFFSETs within SQLite's and SPARQL's integers


def read_page(value: str | None) -> int:
    """Read a ``?page=`` argument: 1 when missing or not a number, never below 1 or above ``MAX_PAGE``."""
    try:
        return min(MAX_PAGE, max(1, int(value or "1")))
    except ValueError:
        return 1
