"""The web interface (`casereview serve`): a front end over `casereview.services`, like
the command line (docs/architecture.md)."""
