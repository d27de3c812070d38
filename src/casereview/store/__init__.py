"""Persistence: the only code that imports a database driver or names a table.

`database` opens a database (migrated by `migrations`) and gives units of work and read
snapshots; `event_log` appends events (the one sealing path) and reads them back;
`projections` and `users` hold the rows rebuilt from events; `dialect` is where SQLite
and PostgreSQL differ; the `*_source`, `dashboard_queries` and `bulk_writes` modules
serve one capability each; `reading` reads through the driver alone for commands that
only read. The domain never imports this package; services wire the two together.
"""
