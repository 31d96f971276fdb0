"""``python -m connector.cli``: the same as the ``arsync`` console script."""

from connector.cli import main

main()
