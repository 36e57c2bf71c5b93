"""The accessibility checks of the browser tests catch what they are meant to catch."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.e2e.a11y import check_keyboard_reaches_every_button, check_page, watch_policy

pytestmark = pytest.mark.browser

GOOD = """<!doctype html><title>Good page</title>
<label for="a">Name</label><input id="a"> <input aria-label="Search"> <span id="l">Mode</span>
<select aria-labelledby="l"><option>x</option></select> <label><input type="checkbox"> Wrapped</label>
<progress max="100" value="40" aria-label="Cycle progress"></progress>
<button>One</button> <details><summary>More</summary><button>Hidden until opened</button></details>
<button disabled>Disabled</button> <input type="submit" value="Two">"""


@pytest.fixture
def blank(browser):
    context = browser.new_context()
    watch_policy(context)
    page = context.new_page()
    yield page
    context.close()


def test_a_good_page_passes(blank):
    blank.set_content(GOOD)
    check_page(blank)
    check_keyboard_reaches_every_button(blank)


@pytest.mark.parametrize(
    ("html", "complaint"),
    [
        ("<title> </title><button>x</button>", "no <title>"),
        ("<title>t</title><input name=q placeholder='Search'>", "without a label"),
        ("<title>t</title><label for=other>Name</label><textarea id=mine></textarea>", "without a label"),
        ("<title>t</title><span id=e></span><select aria-labelledby=e></select>", "without a label"),
        ("<title>t</title><progress max=100 value=3></progress>", "without an accessible name"),
        ("<title>t</title><div role=progressbar aria-label=Busy></div>", "without a value"),
    ],
)
def test_page_problems_are_reported(blank, html, complaint):
    blank.set_content(html)
    with pytest.raises(AssertionError, match=complaint):
        check_page(blank)


def test_a_button_out_of_the_tab_order_is_reported(blank):
    blank.set_content("<title>t</title><button>Reachable</button><button tabindex='-1'>Mouse only</button>")
    with pytest.raises(AssertionError, match="Mouse only"):
        check_keyboard_reaches_every_button(blank)


def test_a_page_whose_policy_blocks_something_is_reported(blank):
    html = """<meta http-equiv="Content-Security-Policy" content="script-src 'none'"><title>t</title>
        <script>document.title = 'ran'</script><button>x</button>"""
    blank.goto("data:text/html," + quote(html))  # a navigation: set_content() would drop the watcher
    assert blank.title() == "t"
    with pytest.raises(AssertionError, match="Content-Security-Policy blocked: .*script-src"):
        check_page(blank)
