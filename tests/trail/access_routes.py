from tests.access import ADMIN, roles

# Data-protection officers hold the admin role: the trail of reads is theirs to answer requests with.
ROUTES = {
    "trail.index": roles(ADMIN),
}
