from tests.access import ADMIN, roles

ROUTES = {
    "scheduler.status": roles(ADMIN),
}
