"""Checks every page of the browser tests passes: accessibility basics (titles, labels, accessible progress values,
keyboard reach) and the Content-Security-Policy (nothing the page does is blocked by it)."""

from __future__ import annotations

from playwright.sync_api import Page

UNLABELLED_CONTROLS = """() => {
  const controls = [...document.querySelectorAll('input, select, textarea')]
    .filter(el => !['hidden', 'submit', 'button', 'reset', 'image'].includes((el.type || '').toLowerCase()));
  const named = el => (el.labels && [...el.labels].some(l => l.textContent.trim()))
    || (el.getAttribute('aria-label') || '').trim()
    || (el.getAttribute('aria-labelledby') || '').split(/\\s+/).some(id => {
         const ref = id && document.getElementById(id);
         return ref && ref.textContent.trim();
       });
  return controls.filter(el => !named(el)).map(el => el.outerHTML.slice(0, 160));
}"""

PROGRESS_BARS = """() => [...document.querySelectorAll('progress, [role=progressbar]')].map(el => ({
  html: el.outerHTML.slice(0, 200),
  name: (el.getAttribute('aria-label') || '').trim()
        || (el.labels && [...el.labels].map(l => l.textContent.trim()).join(' ')) || '',
  value: el.getAttribute('aria-valuenow') ?? (el.hasAttribute('value') ? el.getAttribute('value') : null),
  indeterminate: el.tagName === 'PROGRESS' && !el.hasAttribute('value'),
}))"""

VISIBLE_BUTTONS = """() => [...document.querySelectorAll(
    'button, input[type=submit], input[type=button], [role=button]')]
  .filter(el => !el.disabled && el.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true}))
  .map((el, i) => {
    el.dataset.a11yButton = String(i);
    return (el.textContent || el.value || '').trim() || el.outerHTML.slice(0, 80);
  })"""

FOCUSED_BUTTON = """() => {
  const el = document.activeElement;
  return el && el.dataset ? el.dataset.a11yButton ?? null : null;
}"""


# Installed before any page script runs: the browser fires `securitypolicyviolation` for everything the policy
# blocks (an inline script, style or handler, eval, a foreign source), including what htmx does after the load.
WATCH_POLICY = """
window.__policyViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__policyViolations.push(
  `${e.effectiveDirective} blocked ${e.blockedURI || 'an inline part'}`
  + ` at ${e.sourceFile || e.documentURI}:${e.lineNumber}` + (e.sample ? ` (${e.sample})` : '')));
"""


def watch_policy(context) -> None:
    """Record Content-Security-Policy violations of every page of a browser context (see check_policy)."""
    context.add_init_script(WATCH_POLICY)


def check_policy(page: Page) -> None:
    """Nothing on the page so far was blocked by the Content-Security-Policy."""
    violations = page.evaluate("() => window.__policyViolations")
    assert violations is not None, "watch_policy() was not installed on this browser context"
    assert not violations, f"{page.url}: the Content-Security-Policy blocked: {violations}"


def check_page(page: Page) -> None:
    """A non-empty <title>, a name for every form control, an accessible name and value for every progress bar, and
    no Content-Security-Policy violation."""
    check_policy(page)
    title = page.title().strip()
    assert title, f"{page.url}: the page has no <title>"
    unlabelled = page.evaluate(UNLABELLED_CONTROLS)
    assert not unlabelled, f"{page.url}: form controls without a label: {unlabelled}"
    for bar in page.evaluate(PROGRESS_BARS):
        assert bar["name"], f"{page.url}: progress bar without an accessible name: {bar['html']}"
        has_value = bar["value"] is not None or bar["indeterminate"]
        assert has_value, f"{page.url}: progress bar without a value: {bar['html']}"


def check_keyboard_reaches_every_button(page: Page, max_tabs: int = 400) -> None:
    """Tab from the top of the page until every visible, enabled button has had the focus."""
    buttons = page.evaluate(VISIBLE_BUTTONS)
    assert buttons, f"{page.url}: no button to reach"
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    page.locator("body").focus()
    reached: set[str] = set()
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        marker = page.evaluate(FOCUSED_BUTTON)
        if marker is not None:
            reached.add(marker)
            if len(reached) == len(buttons):
                return
    missing = [label for i, label in enumerate(buttons) if str(i) not in reached]
    raise AssertionError(f"{page.url}: Tab never reached these buttons: {missing}")
