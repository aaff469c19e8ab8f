"""DSM API errors as the mock raises them; the router turns them into DSM's error envelope."""


class ApiError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code
