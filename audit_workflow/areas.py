"""The areas that make up the application: their blueprints and their CLI commands.

Add one line per area. create_app() registers the blueprints; the `audit-workflow` group adds the
commands ("module:attribute" of a click command or group).
"""

BLUEPRINTS = [
    "audit_workflow.web.views",
    "audit_workflow.auth.views",
    "audit_workflow.audits.views",
]

COMMANDS = [
    "audit_workflow.framework.commands:framework_cli",
]
