"""The words of the actions area: types, statuses, changes and red/amber/green. Pure, so the rules
and the board can use them without the database."""

from enum import StrEnum


class ActionType(StrEnum):
    AMEND_PLAN = "amend_plan"
    REAUDIT = "reaudit"
    PROCESS_CHANGE = "process_change"
    TRAINING = "training"

    @property
    def label(self) -> str:
        return ACTION_TYPE_LABELS[self]


ACTION_TYPE_LABELS = {
    ActionType.AMEND_PLAN: "Amend the plan",
    ActionType.REAUDIT: "Amend and re-audit",
    ActionType.PROCESS_CHANGE: "Process or template change",
    ActionType.TRAINING: "Training",
}


class ActionStatus(StrEnum):
    PROPOSED = "proposed"  # raised by the service from a weak audit; nobody owns it yet
    OPEN = "open"  # has an owner and a due date
    REAUDIT = "reaudit"  # the plan was amended and its re-audit is allocated
    CLOSED = "closed"


class ActionChangeKind(StrEnum):
    PROPOSED = "proposed"
    CREATED = "created"
    ASSIGNED = "assigned"
    EDITED = "edited"
    PLAN_AMENDED = "plan_amended"
    CLOSED = "closed"


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
