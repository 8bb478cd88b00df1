"""One class per wire error, each carrying its HTTP status and Twilio code."""

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"


class TwilioError(Exception):
    status = 400
    code = 20001

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def body(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": MORE_INFO.format(code=self.code),
            "status": self.status,
        }


class InvalidParameter(TwilioError):
    """400: a value the API refuses (code 20001, Twilio's generic 'Invalid parameter')."""


class Unauthenticated(TwilioError):
    status = 401
    code = 20003
    challenge = 'Basic realm="Twilio API"'  # the WWW-Authenticate header: how to authenticate

    def __init__(self, message: str = "Authenticate") -> None:
        super().__init__(message)


class FacilitatorUnauthenticated(Unauthenticated):
    """/_local/Accounts without the facilitator's token (a bearer token, not an account's Basic auth)."""

    challenge = 'Bearer realm="local TaskRouter facilitator"'

    def __init__(self) -> None:
        super().__init__("Authenticate with the facilitator token: Authorization: Bearer <token>")


class NotFound(TwilioError):
    status = 404
    code = 20404

    def __init__(self, path: str) -> None:
        super().__init__(f"The requested resource {path} was not found")


class MethodNotAllowed(TwilioError):
    status = 405
    code = 20004

    def __init__(self, method: str) -> None:
        super().__init__(f"Method {method} not allowed")


class ForeignOrigin(TwilioError):
    """403: a request through the learner's Jupyter server from a page on another origin (core/proxied.py)."""

    status = 403
    code = 20403


class PreconditionFailed(TwilioError):
    status = 412
    code = 20412

    def __init__(self, etag: str, given: str) -> None:
        super().__init__(f"If-Match {given!r} does not match the current ETag {etag!r}")


class Duplicate(InvalidParameter):
    """A name that must be unique is taken. Twilio answers 400/20001 ("Worker named Alice already exists ...")."""


class InUse(InvalidParameter):
    """Deleting what something else still uses (an activity workers are in, a queue a workflow routes to)."""


class IllegalTransition(InvalidParameter):
    """A status change the lifecycle does not allow now (a finished task updated, a reservation not pending)."""


class LimitExceeded(InvalidParameter):
    """One more than a Workspace may hold (15,000 workers, 5,000 TaskQueues)."""
