"""Working days in England and Wales: the calendar, its overrides, and how a due date
is explained."""
