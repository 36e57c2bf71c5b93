"""The closed set of errors every remote call can end in.

Callers decide what to do from the class alone: retry later (TransientError), skip this object
(NotFound, AlreadyExists, BadRequest) or stop the cycle (StopError). Messages are written for an
administrator and never carry a secret; `request` names the call as "METHOD https://host/path".
"""

from __future__ import annotations


class RemoteError(Exception):
    """A remote call failed; `code` is the remote system's own code (INVALID_LOGIN, AADSTS7000215, ...)."""

    default_code = "REMOTE_ERROR"

    def __init__(self, message: str, *, code: str = "", recommendation: str = "", request: str = "") -> None:
        self.code = code or self.default_code
        self.message = message
        self.recommendation = recommendation
        self.request = request
        super().__init__(message)

    def __str__(self) -> str:
        text = self.message
        if self.recommendation:
            text = f"{text} {self.recommendation}"
        return text

    def __reduce__(self):
        # Keep the keyword-only attributes when pickled (django-q2 stores task failures).
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))

    @property
    def full_message(self) -> str:
        """Message plus what to do, the text shown to an administrator."""
        return str(self)


def _rebuild(cls: type[RemoteError], message: str, state: dict) -> RemoteError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class TransientError(RemoteError):
    """Try again later: 429, 5xx, timeouts, connection resets, UNABLE_TO_LOCK_ROW."""

    default_code = "TRANSIENT"

    def __init__(
        self, message: str, *, retry_after: float | None = None, throttled: bool = False, **kwargs: str
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.throttled = throttled  # the remote system said "too many requests" (counted for /metrics)
        self.budget_exhausted = False  # retrying stopped because the cycle's retry time budget was used up


class SessionExpired(TransientError):
    """Salesforce answered 401 INVALID_SESSION_ID; the client signs in again once and retries."""

    default_code = "INVALID_SESSION_ID"


class RequestLimitExceeded(RemoteError):
    """Salesforce's REQUEST_LIMIT_EXCEEDED for the org's rolling 24-hour allowance ("TotalRequests Limit exceeded."):
    no retry helps within the cycle, and nothing is wrong with the job either. The cycle pauses, its state kept, and
    resumes once the org's /limits resource shows the allowance back (provisioning/operations/api_limit.py).
    `usage` is (used, max) from the answer's Sforce-Limit-Info when it carried one."""

    default_code = "REQUEST_LIMIT_EXCEEDED"

    def __init__(self, message: str, *, usage: tuple[int, int] | None = None, **kwargs: str) -> None:
        super().__init__(message, **kwargs)
        self.usage = usage


class NotFound(RemoteError):
    default_code = "NOT_FOUND"


class AlreadyExists(RemoteError):
    default_code = "DUPLICATE_VALUE"


class BadRequest(RemoteError):
    """The remote system refused this one request; log it and carry on with the next object."""

    default_code = "BAD_REQUEST"


class StopError(RemoteError):
    """Nothing else will work either: stop the cycle (credentials, permissions, limits, unreachable host)."""

    default_code = "STOP"


class AuthenticationError(StopError):
    """Sign-in or token request refused."""

    default_code = "AUTHENTICATION_FAILED"


class DeltaExpired(RemoteError):
    """The stored Graph delta link is no longer valid: start again with a full synchronisation."""

    default_code = "DELTA_EXPIRED"
