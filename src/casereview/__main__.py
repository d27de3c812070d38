"""Allows `python -m casereview`, identical to the `casereview` console script."""

from casereview.cli.app import main

if __name__ == "__main__":
    main()
