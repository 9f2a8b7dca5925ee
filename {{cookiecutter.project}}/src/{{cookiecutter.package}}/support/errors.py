"""User errors: one short message and a non-zero exit, never a traceback.

A mistake in a setting, a data file or a checkpoint is the user's to fix, so the apps print one line
naming the key or file, the bad value and what is allowed. Anything else is a bug of ours and keeps
its traceback. HYDRA_FULL_ERROR=1 shows the traceback of user errors too.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A problem the user can fix: the message says what was given and what is allowed."""


@contextmanager
def exit_on_user_error() -> Iterator[None]:
    """Turn a UserError raised inside the block into `error: <message>` on stderr and exit 2."""
    try:
        yield
    except UserError as error:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {error}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
