"""API errors as the mock Cloudflare raises them: HTTP status, Cloudflare code, message, chain."""


class ApiError(Exception):
    def __init__(self, status, code, message, chain=None):
        super().__init__(message)
        self.status, self.code, self.message, self.chain = status, code, message, chain
