"""The navigation: every page's links for the signed-in user's roles, and the home page's list of
the same places with a hint for each."""

from tests.conftest import sign_in

CYCLES_HINT = "Set up cycles, draw samples, allocate plans and track progress"


def test_the_home_page_lists_where_a_coordinator_can_go_with_hints(client, world):
    sign_in(client, world.user("coordinator"))
    page = client.get("/").get_data(as_text=True)
    assert 'href="/cycles">Audit cycles</a><br><span class="govuk-body-s">' + CYCLES_HINT in page


def test_other_pages_show_the_navigation_but_not_the_hints(client, world):
    sign_in(client, world.user("coordinator"))
    page = client.get("/cycles").get_data(as_text=True)
    assert 'href="/cycles"' in page and "Kent" in page
    assert CYCLES_HINT not in page


def test_an_auditor_is_not_offered_the_cycles(client, world):
    sign_in(client, world.user("auditor"))
    page = client.get("/").get_data(as_text=True)
    assert CYCLES_HINT not in page and 'href="/cycles"' not in page
