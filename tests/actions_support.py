"""A national review's action plan built through the services, for the document and
browser tests: six recommendations, seven actions for three agencies, a year of
updates, one action extended, one missed, one closed without completion, one still
open. The outcomes by hand: 1.1 met, 2.1 missed, 3.1 met after extension, 4.1 overdue,
4.2 met, 5.1 met, 6.1 closed without completion."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from casereview.domain import actions as plans
from casereview.infra.now import FixedClock
from casereview.services import actions, cases, users
from casereview.services import workflows as workflow_service
from casereview.services.context import ServiceContext
from tests.conftest import enrol_keys

ACTIONS_DIR = Path(__file__).resolve().parent / "fixtures" / "workflows" / "actions"
END = dt.date(2027, 1, 11)
SCRIPT = "<script>document.title='pwned'</script>"

PEOPLE = {
    "bu": (["business_unit"], None),
    "chair": (["chair"], None),
    "pc_lee": (["partner"], "police"),
    "la_khan": (["partner"], "local_authority"),
    "icb_ode": (["partner"], "icb"),
    "scrut": (["scrutineer"], None),
}
RECS = {
    "1": ["local_authority"],
    "2": ["police"],
    "3": ["icb"],
    "4": ["local_authority", "police"],
    "5": ["police", "icb"],
    "6": ["local_authority", "police", "icb"],
}
ACTIONS = {
    "1.1": ("1", "local_authority", "2026-06-30"),
    "2.1": ("2", "police", "2026-06-30"),
    "3.1": ("3", "icb", "2026-09-30"),
    "4.1": ("4", "local_authority", "2026-09-30"),
    "4.2": ("4", "police", "2026-09-30"),
    "5.1": ("5", "icb", "2026-12-31"),
    "6.1": ("6", "police", "2026-12-31"),
}
EXPECTED = {
    plans.MET: 3,
    plans.MET_EXTENDED: 1,
    plans.MISSED: 1,
    plans.CLOSED_UNMET: 1,
    plans.OPEN_OVERDUE: 1,
    plans.OPEN_ON_TIME: 0,
}


class Desk:
    def __init__(self, url: str) -> None:
        self.url = url
        self.clock = FixedClock(dt.date(2026, 1, 5))
        self.contexts: dict[str, ServiceContext] = {}

    def as_(self, account: str) -> ServiceContext:
        if account not in self.contexts:
            self.contexts[account] = ServiceContext(self.url, account, self.clock)
        return self.contexts[account]

    def on(self, day: str) -> None:
        # Every context shares this clock: move it to noon (London) of `day`.
        self.clock._instant = FixedClock(dt.date.fromisoformat(day)).now()

    def step(self, who: str, day: str, trigger: str, **fields: object) -> None:
        self.on(day)
        rationale = fields.pop("rationale", None)
        why = None if rationale is None else str(rationale)
        actions.record(self.as_(who), "NR-1", trigger, fields, rationale=why)

    def close(self) -> None:
        for ctx in self.contexts.values():
            ctx.close()


def build(url: str) -> Desk:
    """The plan of case NR-1 as at `END` (the clock stays there)."""
    desk = Desk(url)
    admin = desk.as_("ada")
    users.init(admin)
    workflow_service.install(admin, "plan")
    for name, (roles, agency) in PEOPLE.items():
        users.add_user(admin, name, name, roles, agency)
    enrol_keys(url, *PEOPLE, admin="ada", clock=desk.clock)
    cases.open_case(desk.as_("bu"), "NR-1", aware_on=desk.clock.today(), workflow="plan")
    for number, agencies in RECS.items():
        text = f"Recommendation {number}" if number != "6" else SCRIPT
        desk.step("chair", "2026-02-02", plans.REC_ADD, number=number, text=text,
                  source="National review of Arthur and Star", section="Part 4",
                  agencies=agencies, scope="single" if len(agencies) == 1 else "multi")  # fmt: skip
    for number, (rec, agency, due) in ACTIONS.items():
        desk.step("chair", "2026-02-02", plans.ACTION_ADD, action=number, rec=rec,
                  text=f"Do {number}", agency=agency, owner=f"Head of {agency}",
                  due_on=due)  # fmt: skip
    desk.step("la_khan", "2026-03-02", plans.ACTION_UPDATE, action="1.1",
              status="in_progress", note="Procedure drafted")  # fmt: skip
    desk.step("la_khan", "2026-06-15", plans.ACTION_COMPLETE, action="1.1",
              status="evidenced", evidence=["https://dms.example/proc/17"])  # fmt: skip
    desk.step("pc_lee", "2026-07-20", plans.ACTION_COMPLETE, action="2.1", status="completed",
              note="Training delivered: 140 staff")  # fmt: skip
    desk.step("pc_lee", "2026-08-03", plans.ACTION_COMPLETE, action="4.2", status="completed")
    desk.step("chair", "2026-09-01", plans.ACTION_EXTEND, action="3.1", due_on="2027-01-31",
              reason="Audit postponed by the inspection", agreed_by="Chair")  # fmt: skip
    desk.step("icb_ode", "2026-11-16", plans.ACTION_COMPLETE, action="3.1",
              status="evidenced", evidence=["audit-2026-11.pdf"])  # fmt: skip
    desk.step("bu", "2026-12-14", plans.ACTION_UPDATE, action="4.1", status="in_progress",
              note="Keyed in for the local authority")  # fmt: skip
    desk.step("bu", "2026-12-14", plans.ACTION_COMPLETE, action="5.1", status="completed")
    desk.step("chair", END.isoformat(), plans.ACTION_COMPLETE, action="6.1",
              status="closed_without_completion",
              reason="Superseded by the national programme")  # fmt: skip
    return desk
