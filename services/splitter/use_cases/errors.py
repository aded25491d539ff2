"""What a splitter command answers when it cannot do what was asked; nothing was changed."""

from __future__ import annotations

from collections.abc import Mapping


class SplitterError(Exception):
    """A command that cannot be carried out as asked; nothing was changed."""


class NotFound(SplitterError):
    pass


class UnknownVendor(SplitterError):
    def __init__(self, codes: set[str]) -> None:
        super().__init__(f"unknown vendor(s): {', '.join(sorted(codes))}")
        self.codes = codes


class DuplicateSource(SplitterError):
    def __init__(self) -> None:
        super().__init__("a vendor appears twice")


class Invalid(SplitterError):
    """The request names things that do not fit together (422 with the fields)."""

    def __init__(self, detail: str, fields: Mapping[str, str]) -> None:
        super().__init__(detail)
        self.fields = dict(fields)


class Conflict(SplitterError):
    """The thing is not in a state that allows this (409)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
