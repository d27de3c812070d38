"""The decision log: one record per case event, and its files for people outside casereview.

`records` builds the records and an export's metadata from the event log in `seq` order;
`document` holds what every file shares (the writer protocol, the hashing sink, the parsed
form verification compares); `as_csv`, `as_json` and `as_markdown` are the formats, each
with its writer and its reader; `integrity` recognises a file, checks its digest and
compares it with a regenerated export. Nothing here opens the database or reads the time.
The file layouts: docs/exports.md.
"""
