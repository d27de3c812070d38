"""The service layer: one function per use case.

Each write opens one unit of work, does all its checks and writes, and commits once;
any failure rolls everything back. The CLI calls exactly one service function per
command and renders what it returns.
"""
