from tests.actions.conftest import app_context, fast_password_hashing, second_auditor, weak_audit  # noqa: F401  (shared fixtures)
