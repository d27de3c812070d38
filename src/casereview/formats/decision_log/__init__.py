"""Exports for people outside casereview: the decision log and the calendar feed.

- `decision_log`: one record per case event (who, what, why, and where every clock
  stood), built incrementally from the event log in `seq` order; the export's metadata.
- `document`: what every decision-log file shares: the writer protocol, the hashing sink
  and the parsed form that verification compares.
- `csv_format`, `json_format`, `markdown`: the three decision-log formats, each with its
  writer and its reader.
- `integrity`: recognise a file, check its digest, compare it with a regenerated export.
- `ics`: open deadlines as an iCalendar file.
- `output`: where an export goes (stdout, or a file written atomically, never clobbered
  unless asked).

Nothing here opens the database or reads the time: the service layer passes both in.
"""
