"""DSM API errors as the mock raises them; app.py turns them into DSM's error envelope."""

from tests.lab.common.errors import MockError


class ApiError(MockError):
    """DSM's `{"error": {"code": N}, "success": false}`; `errors` is DSM's optional `error.errors`
    (for 120: `{"name": <parameter>, "reason": ...}`)."""

    def __init__(self, code, errors=None):
        super().__init__(code)
        self.errors = errors

    def body(self):
        error = {"code": self.code}
        if self.errors is not None:
            error["errors"] = self.errors
        return error
