"""Annual-report figures from the facts of each case: the period, the figures and the
cases behind them."""
