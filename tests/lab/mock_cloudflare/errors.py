"""API errors as the mock Cloudflare raises them: HTTP status, Cloudflare code, message, chain."""

from tests.lab.common.errors import MockError


class ApiError(MockError):
    def __init__(self, status, code, message, chain=None):
        super().__init__(code, message)
        self.status, self.chain = status, chain
