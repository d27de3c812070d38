"""Timed scenarios for casereview (not tests); results are written up in docs/performance.md."""
