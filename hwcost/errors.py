"""The one exception type of expected failures: bad input, a missing or corrupt file, a folder that holds
something else. The command line turns it (and the standard ones of the same nature, see
:data:`hwcost.cli.EXPECTED_ERRORS`) into one line on stderr and exit status 2; anything else is a bug and
keeps its traceback."""

from __future__ import annotations


class UsageError(ValueError):
    """An expected failure whose message names the field or file, the value and the fix.

    A ``ValueError`` (so code that checks input with ``except ValueError`` keeps working), raised where a
    plain ``ValueError`` from deeper down would not say which file or option is at fault.
    """


__all__ = ["UsageError"]
