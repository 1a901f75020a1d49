"""Small text formats shared by the Markdown reports (:mod:`hiergenre.viz`) and the terminal views (the CLI)."""

from __future__ import annotations


def percent(value: float | None, digits: int = 1) -> str:
    """``81.2%``, or ``–`` for a missing (None or NaN) value."""
    if value is None or value != value:
        return "–"
    return f"{100 * value:.{digits}f}%"
