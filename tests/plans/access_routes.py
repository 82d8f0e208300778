from tests.access import COORDINATOR, MANAGER, roles

ROUTES = {
    "plans.register": roles(COORDINATOR, MANAGER),
    "plans.upload": roles(COORDINATOR),
}
