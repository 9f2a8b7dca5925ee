"""Read a table from disk, or the heart-disease table embedded in the package."""

from importlib.resources import as_file, files
from pathlib import Path

import pandas as pd

from ..errors import UserError

EMBEDDED_HEART = "heart.csv"


def read_table(path: str | None) -> pd.DataFrame:
    """Read a CSV file; None reads the embedded Cleveland heart-disease table."""
    if path is None:
        with as_file(files(__package__) / EMBEDDED_HEART) as embedded:
            return pd.read_csv(embedded)
    file = Path(path).expanduser()
    if not file.is_file():
        problem = "is a directory" if file.is_dir() else "does not exist"
        raise UserError(f"data.path={path!r} {problem}: give the path of a CSV file")
    try:
        frame = pd.read_csv(file)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise UserError(f"data.path={path!r} is not a readable CSV file: {error}") from None
    if frame.empty:
        raise UserError(f"data.path={path!r} holds no data rows")
    return frame
