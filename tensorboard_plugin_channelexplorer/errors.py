"""The errors of ChannelExplorer, built on TensorBoard's public error classes.

Three classes cover every expected failure, and each carries the HTTP code
TensorBoard gives its base class:

=======================  ============  =============================================
class                    HTTP          raised when
=======================  ============  =============================================
`InvalidArgumentError`   400           a request parameter is bad, missing or names
                                       something that does not exist (a run, a step,
                                       a layer)
`NotFoundError`          404           a valid request whose data is absent (dropped
                                       by TensorBoard's sampling, never logged)
`CorruptDataError`       404           data exists in the logdir but cannot be
                                       decoded or disagrees with its other records
=======================  ============  =============================================

Every instance has a ``parameter`` attribute, the request parameter at fault
(or None), so the routes never guess it from the message. Views, queries and
the reader raise these directly; the routes turn them into JSON
``{"error": public_message, "parameter": parameter}`` with ``http_code``.

The messages are kept as given (TensorBoard's classes would prefix "Invalid
argument: " or "Not found: "), and the classes also derive from the builtin
exception their callers always caught: ``ValueError`` for bad arguments and
corrupt data, ``LookupError`` for absent data. Only ``tensorboard.errors`` is
imported, so every module (the writer included) can use them.
"""

from __future__ import annotations

from tensorboard import errors as tb_errors

__all__ = ["InvalidArgumentError", "NotFoundError", "CorruptDataError", "CORRUPT_PREFIX"]

# The public message of every CorruptDataError starts with this.
CORRUPT_PREFIX = "corrupt data in the logdir: "


class _ParameterError:
    """Mixin: keeps the message as given and records the parameter at fault."""

    def __init__(self, message: str, parameter: str | None = None):
        # PublicError directly: TensorBoard's subclasses would prefix "Invalid argument: " / "Not found: ".
        tb_errors.PublicError.__init__(self, message)
        self.parameter = parameter

    @property
    def public_message(self) -> str:
        """The text served to the client."""
        return str(self)


class InvalidArgumentError(_ParameterError, tb_errors.InvalidArgumentError, ValueError):
    """A bad request parameter, or one naming something that does not exist (HTTP 400).

    Args:
        message: what is wrong, naming the parameter and the values.
        parameter: the request parameter at fault (``run``, ``step``, ...),
            or None.

    Attributes:
        parameter: as given.
    """


class NotFoundError(_ParameterError, tb_errors.NotFoundError, LookupError):
    """A valid request whose data is absent, e.g. dropped by sampling (HTTP 404).

    Args:
        message: what is absent, and how to get it back when known.
        parameter: the request parameter most related to the absence, or None.

    Attributes:
        parameter: as given.
    """


class CorruptDataError(NotFoundError, ValueError):
    """Logdir data that cannot be decoded, or whose records disagree (HTTP 404).

    404 rather than 400 or 500: the request was fine and other steps or layers
    still are, but this data cannot be served. ``str(exc)`` is the detail
    (which record, what is wrong); `public_message` adds `CORRUPT_PREFIX`.
    """

    @property
    def public_message(self) -> str:
        """``corrupt data in the logdir: <detail>``."""
        return CORRUPT_PREFIX + str(self)
