"""The command line, a thin layer over :mod:`hiergenre.api`: entry point (:mod:`~hiergenre.cli.main`), app, commands."""
