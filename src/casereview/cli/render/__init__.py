"""Everything that draws to the terminal. This package is the only importer of rich.

`console` holds the shared consoles and message helpers; each sibling module renders
one area's results (tables for people; JSON is written by `console.print_json_data`).
"""
