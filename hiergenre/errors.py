"""The one exception type users see.

Every expected failure (bad YAML, unreadable audio, an untrained workspace...) is raised as
:class:`HierGenreError` with a one-line message naming the offending value, so the CLI can print
it without a traceback and exit non-zero. Anything else is a bug.
"""


class HierGenreError(Exception):
    """An error caused by the user's input or workspace, with a message fit for one line."""


class InvalidValue(HierGenreError):
    """A value given on the command line (or to the API) that is not allowed: the CLI exits 2, as for usage errors."""
