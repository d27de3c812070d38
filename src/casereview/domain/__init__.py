"""The rules of the process, pure: no database, no files, no clock, no front end.

The working-day calendar, workflow definitions, the engine that decides an event, the
clocks derived from events, the one replay, the audit chain's mathematics and the
reporting rules. Everything here takes plain values and returns plain values.
"""
