"""The areas that make up the application: their blueprints and their CLI commands.

Add one line per area. create_app() registers the blueprints; the `audit-workflow` group adds the
commands ("module:attribute" of a click command or group).
"""

BLUEPRINTS = [
    "audit_workflow.web.views",
    "audit_workflow.auth.views",
    "audit_workflow.audits.views",
    "audit_workflow.plans.views",
    "audit_workflow.cycles.views",
    "audit_workflow.scheduler.views",
    "audit_workflow.notifications.views",
    "audit_workflow.feedback.views",
    "audit_workflow.actions.views",
    "audit_workflow.trail.views",
    "audit_workflow.reports.cycle_report.views",
    "audit_workflow.reports.views",
    "audit_workflow.moderation.views",
]

COMMANDS = [
    "audit_workflow.framework.commands:framework_cli",
    "audit_workflow.plans.commands:import_plans_command",
    "audit_workflow.cycles.commands:cycle_cli",
    "audit_workflow.scheduler.commands:scheduler_command",
    "audit_workflow.scheduler.commands:run_job_command",
    "audit_workflow.notifications.commands:mail_cli",
    "audit_workflow.feedback.commands:questionnaire_cli",
    "audit_workflow.feedback.commands:feedback_cli",
    "audit_workflow.actions.commands:actions_cli",
    "audit_workflow.trail.commands:trail_command",
    "audit_workflow.reports.commands:benchmark_cli",
    "audit_workflow.reports.cycle_report.commands:report_command",
    "audit_workflow.moderation.commands:moderation_cli",
    "audit_workflow.moderation.commands:export_cli",
]
