"""Pure writers and readers of files for people outside casereview: the decision log,
the annual report and the calendar feed. Nothing here opens the database or reads the time."""
