"""Imports every table so SQLModel.metadata is complete (for Alembic and for tests)."""

from .audits.models import Audit, AuditHistory, SectionJudgement  # noqa: F401
from .auth.models import User, UserSession  # noqa: F401
from .authorities.models import ClosureDay, LocalAuthority  # noqa: F401
from .cycles.models import AllocationRun, Assignment, AuditCycle, CycleAuditor, CyclePlan, SampleChange  # noqa: F401
from .framework.models import FrameworkVersion  # noqa: F401
from .feedback.models import (  # noqa: F401
    FeedbackAnswer, FeedbackContact, FeedbackInvitation, FeedbackLink, FeedbackResponse, FeedbackVisit,
    QuestionnaireVersion,
)
from .notifications.models import Alert, MailSendSlot, MailThrottle, OutboxMessage  # noqa: F401
from .plans.models import ImportMapping, PendingUpload, Plan, PlanImport  # noqa: F401
from .reports.models import BenchmarkFigure, ContextFigure, StatisticalNeighbour  # noqa: F401
from .reports.cycle_report.models import CycleReportJob, CycleReportText  # noqa: F401
from .scheduler.models import JobRun, SchedulerLease  # noqa: F401
from .actions.models import Action, ActionChange, ActionReview, ActionSettings  # noqa: F401
from .trail.models import AccessEvent  # noqa: F401
from .moderation.models import Adjudication, AgreedGrade, ModerationCycle, ModerationPick, Moderator  # noqa: F401
from .rate_limit.models import RateLimitEvent  # noqa: F401
