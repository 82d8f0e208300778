"""Vocabulary for the access matrix. Each area lists its routes in tests/<area>/access_routes.py:

    ROUTES = {"endpoint": roles or PUBLIC}
    PARAM_BUILDERS = {"url_param_id": build(db, world, la_key, objects) -> id}   # optional

test_access_matrix.py gathers every such table; a route listed in none of them fails the suite.
"""

AUDITOR, COORDINATOR, MANAGER, ADMIN = "auditor", "coordinator", "manager", "admin"
EVERYONE = frozenset({AUDITOR, COORDINATOR, MANAGER, ADMIN})
PUBLIC = "public"


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)
