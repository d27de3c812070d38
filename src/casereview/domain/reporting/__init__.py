"""Annual-report figures from the facts of each case: the period, the figures, the cases behind them."""
