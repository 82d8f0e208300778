from tests.access import EVERYONE, PUBLIC

ROUTES = {
    "web.home": EVERYONE,
    "web.healthz": PUBLIC,
    "web.privacy": PUBLIC,
    "web.accessibility": PUBLIC,
    "auth.sign_in": PUBLIC,
    "auth.sign_out": EVERYONE,
    "auth.entra_start": PUBLIC,
    "auth.entra_callback": PUBLIC,
}
