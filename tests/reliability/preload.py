"""Imported by the crash suite's fork server before it forks any writer: casereview's
modules, the parsed workflows and the calendar are then ready in every child, so a
child starts writing within milliseconds and each kill cycle stays short."""

from tests.reliability import worker

worker.warm()
