"""The project's named errors: each says what failed and why, in one readable message."""

from __future__ import annotations


class AcqError(RuntimeError):
    """Base of every error a job reports to its user (exit status 1, message on stderr)."""


class InputSchemaError(AcqError, ValueError):
    """The input misses a column or has one of the wrong type; nothing has been written."""


class InputRowsError(AcqError, ValueError):
    """Too many input rows break the contract (their share passes ``validation.max_bad_share``)."""


class InputNotFoundError(AcqError, FileNotFoundError):
    """An input table or artifact does not exist where the configuration says it is."""


class UnreadableFileError(AcqError, OSError):
    """A file is where it should be but cannot be read: truncated, corrupt, or not in the expected format."""


class InputExistsError(AcqError, FileExistsError):
    """The simulator would write over data that is already there; nothing has been written."""


class PublishGuardError(AcqError):
    """A figure of the day's allocation fails a ``publish.*`` check; nothing has been published."""


class InfeasibleBudgetError(AcqError, ValueError):
    """The creative budget is below the smallest total any allocation can have."""


class StageError(AcqError):
    """A stage of the nightly chain failed; the message names the stage and the cause."""
