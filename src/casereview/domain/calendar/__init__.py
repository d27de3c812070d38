"""Time as the rules count it: the working-day calendar for England and Wales (`workdays`:
which days count, overrides, explanations) and the clock units (`units`: how a budget
in working days, calendar days, months or years becomes a due date)."""
