"""The project's named errors: each says what failed and why, in one readable message."""

from __future__ import annotations


class AcqError(RuntimeError):
    """Base of every error a job reports to its user: one line on stderr, the status of :func:`exit_status`."""


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


class LockHeldError(AcqError):
    """Another run holds the warehouse's lock (:mod:`acq_spark.platform.lock`); nothing has been written."""


class NoSuchClaimError(AcqError, LookupError):
    """The run named to :func:`acq_spark.platform.lock.release` has no claim on the warehouse's lock."""


class StageError(AcqError):
    """A stage of the nightly chain failed; the message names the stage and the cause."""


class ModelMismatchError(AcqError, ValueError):
    """The model to score with reads other features or levels than the scoring rows hold."""


class ConfigError(ValueError):
    """A configuration file or override is invalid (unknown key, wrong type, bad value)."""


class StoreError(AcqError, OSError):
    """The store cannot be used: the bucket does not exist, the credentials are refused, or no one answers."""


class MissingJarsError(AcqError):
    """Delta's jars have not been resolved (run ``make setup``), or were not passed to spark-submit."""


class BackfillError(AcqError):
    """A day of a backfill failed; the message names the day and its cause, the days before it are published."""


class ClusterError(RuntimeError):
    """The cluster did not come up, or a job submitted to it failed; the message ends with log tails."""


class DockerError(ClusterError):
    """Docker cannot be used here (missing and not installable, the daemon did not start, a port taken,
    the base image not built); the message is one line saying which and why."""


class DistError(RuntimeError):
    """``dist/`` is missing or incomplete: run ``make dist``."""


EXIT_FAILURE = 1  # anything else: a bug, the cluster, storage, a failing stage without a cause of its own
EXIT_USAGE = 2  # a bad command line or configuration (argparse and the configuration loader)
EXIT_BAD_INPUT = 3
EXIT_INFEASIBLE_BUDGET = 4
EXIT_LOCKED = 5  # another run holds the warehouse: retry once it is done

# "Bad input": what a job reads (the input table, or a table or artifact of an earlier job) is missing,
# unreadable or breaks its contract, or the day's figures fail the publish guard (too few pairs, input
# too old, budget barely used): fixed by the data's owners or a re-run once the data is there, not by code.
BAD_INPUT: tuple[type[BaseException], ...] = (
    InputSchemaError,
    InputRowsError,
    InputNotFoundError,
    UnreadableFileError,
    PublishGuardError,
)


def exit_status(exc: BaseException) -> int:
    """The exit status for a failure: 3 bad input, 4 an infeasible budget, 5 a locked warehouse, 1 anything else.

    The chain of causes (``raise … from``) is followed, as a :class:`StageError` wraps the stage's own
    error, and the first error with a status of its own decides.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, InfeasibleBudgetError):
            return EXIT_INFEASIBLE_BUDGET
        if isinstance(current, LockHeldError):
            return EXIT_LOCKED
        if isinstance(current, BAD_INPUT):
            return EXIT_BAD_INPUT
        current = current.__cause__  # explicit causes only: an error raised while handling another is its own
    return EXIT_FAILURE
