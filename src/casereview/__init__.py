"""casereview: a case workflow engine for child safeguarding practice reviews in England.

The package is organised so that dependencies point inward: the domain modules
(`workdays`, `workflow`, `engine`, `clocks`, `audit`) import nothing from `store` or `cli`.
"""

__version__ = "0.1.0"
