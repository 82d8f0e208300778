"""Imports every table so SQLModel.metadata is complete (for Alembic and for tests)."""

from .audits.models import Audit, AuditHistory, FrameworkVersion, SectionJudgement  # noqa: F401
from .auth.models import SignInAttempt, User, UserSession  # noqa: F401
from .authorities.models import ClosureDay, LocalAuthority  # noqa: F401
from .cycles.models import AllocationRun, Assignment, AuditCycle, CycleAuditor, CyclePlan, SampleChange  # noqa: F401
from .notifications.models import Alert, MailSendSlot, MailThrottle, OutboxMessage  # noqa: F401
from .plans.models import Plan, PlanImport  # noqa: F401
from .scheduler.models import JobRun, SchedulerLease  # noqa: F401
from .moderation.models import Adjudication, AgreedGrade, ModerationCycle, ModerationPick, Moderator  # noqa: F401
