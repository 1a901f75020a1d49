"""``python -m hiergenre.cli``: the command line in a fresh process."""

from hiergenre.cli.main import main

main()
