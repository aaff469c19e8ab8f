"""The one error base of the lab: a mock raises a subclass, its app turns it into the wire answer."""

from __future__ import annotations


class MockError(Exception):
    """An API error a mock answers with. Subclasses add what their wire format needs."""

    def __init__(self, code, message=""):
        super().__init__(message or str(code))
        self.code = code
        self.message = message
