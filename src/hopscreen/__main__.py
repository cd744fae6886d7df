"""``python -m hopscreen`` runs the command line."""

from hopscreen.cli.main import main

main()
