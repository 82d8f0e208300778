from tests.access import COORDINATOR, MANAGER, roles

ROUTES = {
    "reports.index": roles(COORDINATOR, MANAGER),
    "reports.audits": roles(COORDINATOR, MANAGER),
    "reports.export": roles(COORDINATOR, MANAGER),
    "reports.benchmarking": roles(MANAGER),
}
