import pytest

from audit_workflow.notifications.transports.graph import forget_sign_ins


@pytest.fixture(autouse=True)
def no_kept_sign_in():
    """Each test signs in to its own fake Microsoft: no access token is carried over from another test."""
    forget_sign_ins()
    yield
    forget_sign_ins()
