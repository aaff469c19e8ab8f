"""DSM API errors as the mock raises them; app.py turns them into DSM's error envelope."""

from tests.lab.common.errors import MockError


class ApiError(MockError):
    """DSM's `{"error": {"code": N}, "success": false}`."""
