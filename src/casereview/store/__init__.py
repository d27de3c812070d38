"""Persistence: SQLModel tables, the database connection rules, migrations and the
unit of work. The domain never imports this package; services wire the two together.
"""
