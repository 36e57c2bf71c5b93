"""Signing in through the Entra emulator as a browser would: follow the console's redirect to the authorization
endpoint, fill in the emulator's sign-in form, and bring the code back to the console."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests

PASSWORD = "Entra-pass-7c41"
CALLBACK = "http://testserver/login/entra/callback/"


def emulator_form(page: requests.Response) -> tuple[str, str]:
    """(the form's action, its ctx) from the emulator's sign-in page."""
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    ctx = re.search(r'name="ctx" value="([^"]+)"', page.text).group(1)
    return action, ctx


def authorize(auth_uri: str, login: str, password: str = PASSWORD) -> requests.Response:
    """Open the authorization URL and submit the sign-in form; the emulator's answer (a redirect or a page)."""
    browser = requests.Session()
    page = browser.get(auth_uri, allow_redirects=False)
    assert page.status_code == 200, page.text
    action, ctx = emulator_form(page)
    base = "{0.scheme}://{0.netloc}".format(urlsplit(auth_uri))
    return browser.post(base + action, data={"ctx": ctx, "login": login, "passwd": password}, allow_redirects=False)


def sign_in(client, login: str, password: str = PASSWORD):
    """The whole round trip through the console's test client; returns the console's answer to the callback."""
    start = client.get("/login/entra/")
    assert start.status_code == 302, start.content
    answer = authorize(start["Location"], login, password)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    assert location.path == "/login/entra/callback/"
    return client.get(f"{location.path}?{location.query}")
