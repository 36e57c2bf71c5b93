"""Bearer authentication of the API with personal tokens, and the role check of each operation (read or
administer), on the owner's roles at the time of the call."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from api.models import ApiToken
from api.tokens import TokenRefused, authenticate, require


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; `administer` operations also need a token that administers and an owner who
    is an Application Administrator now."""

    def __init__(self, *, administer: bool) -> None:
        super().__init__()
        self.administer = administer

    def __call__(self, request: HttpRequest) -> ApiToken | None:
        # ninja's own HttpBearer logs a header of another scheme in DEBUG: it could be a credential, so not here.
        header = request.headers.get("Authorization", "")
        if not header:
            return None  # 401 saying how to authenticate
        scheme, _, raw = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise TokenRefused("Use the Bearer scheme: 'Authorization: Bearer <token>'.")
        return self.authenticate(request, raw.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = authenticate(token)
        request.api_token = found
        request.user = found.user
        require(found, administer=self.administer)
        return found


READ = TokenAuth(administer=False)
ADMINISTER = TokenAuth(administer=True)
