"""Allows `python -m casereview`, identical to the `casereview` console script (both
run the CLI in Python's isolated mode: `cli.launch`)."""

from casereview.cli.launch import main

if __name__ == "__main__":
    main()
