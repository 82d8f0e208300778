"""Vocabulary for the access matrix. Each area lists its routes in tests/<area>/access_routes.py:

    ROUTES = {"endpoint": roles or PUBLIC}
    PARAM_BUILDERS = {"url_param_id": build(db, world, la_key, objects) -> id}   # optional

test_access_matrix.py gathers every such table; a route listed in none of them fails the suite.
"""

from audit_workflow.auth.models import Role

AUDITOR, COORDINATOR, MANAGER, ADMIN, VOLUNTEER = "auditor", "coordinator", "manager", "admin", "volunteer"
# Every role there is, so a new role joins the matrix without being listed here (give it a user in conftest.world).
EVERYONE = frozenset(role.value for role in Role)
PUBLIC = "public"


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)
