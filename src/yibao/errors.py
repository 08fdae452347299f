"""The error family. Each error carries an HTTP status for the console API; the national
gateway turns any of them into ``infcode: -1`` with the message as ``err_msg``.

Messages say what is wrong and what to do next, Chinese first, English in parentheses.
"""

from __future__ import annotations


class YibaoError(Exception):
    """Base of every error yibao raises on purpose."""

    status_code: int = 400
    code: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(YibaoError):
    """Input that breaks a rule: names the field and the rule."""

    status_code = 400
    code = "invalid_input"


class Unauthorized(YibaoError):
    status_code = 401
    code = "unauthorized"


class Forbidden(YibaoError):
    status_code = 403
    code = "forbidden"


class NotFound(YibaoError):
    status_code = 404
    code = "not_found"


class Conflict(YibaoError):
    """The request is valid but the state forbids it (already reversed, duplicate msgid …)."""

    status_code = 409
    code = "conflict"


class TooManyAttempts(YibaoError):
    """Refused for a while after repeated failures (sign-in throttling)."""

    status_code = 429
    code = "too_many_attempts"


class ConfigError(YibaoError):
    """Configuration that cannot work (a malformed URL, an unwritable data directory …)."""

    status_code = 500
    code = "config_error"


#: the answer while the row store is down, frozen or cannot write (issue 23)
DB_UNAVAILABLE = "医保数据库暂不可用，请稍后重试 (database unavailable, retry)"


class StorageUnavailable(YibaoError):
    """The row store cannot be reached (down, frozen past its timeout, disk full, read-only):
    a retry later may succeed. HTTP 503 on the console API, ``-1`` on the national interface."""

    status_code = 503
    code = "storage_unavailable"
