"""Drawings and reports on disk: PNG plots (matplotlib without pyplot) and Markdown reports.

The terminal views (rich trees, tables, progress bars) are the command line's: :mod:`hiergenre.cli.render`.
"""
