"""The command-line interface: typer apps grouped by noun, and their rendering.

Only this package imports typer; only `cli.render` imports rich. Each command parses
its arguments, makes one service call and renders the result.
"""
