"""Tables the project has never seen, made up for the tests, with everything real files have.

Text labels, text categories, booleans, a low-cardinality integer, an identifier column and missing
values, with a known signal so that a test can tell a sound model from a broken one. `wide=True`
adds a date column written day first and a city column with many levels, a long tail of them rare.
"""

import numpy as np
import pandas as pd

TARGET = "outcome"


# The wide table's cities: 12 common ones, then a tail of 60 that few rows name.
CITIES = [f"city_{i:02d}" for i in range(72)]
CITY_WEIGHTS = np.r_[np.full(12, 0.07), np.full(60, 0.16 / 60)]


def fresh_table(task: str, rows: int = 600, seed: int = 0, wide: bool = False) -> pd.DataFrame:
    """A customer table whose `outcome` is binary ("yes"/"no"), multiclass or a number."""
    rng = np.random.default_rng(seed)
    age = rng.normal(45, 12, rows).round(1)
    income = rng.lognormal(10, 0.4, rows).round(2)  # unrelated to the outcome
    plan = rng.choice(["basic", "plus", "premium"], rows)
    region = rng.choice(["north", "south", "east", "west"], rows)  # unrelated to the outcome
    active = rng.random(rows) < 0.6
    children = rng.integers(0, 4, rows)
    signal = (
        0.06 * (age - 45)
        + 1.5 * (plan == "premium")
        - 1.5 * (plan == "basic")
        + 1.2 * active
        - 0.5 * children
        + 0.7
    )
    if wide:
        signed_up = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 1500, rows), "D")
        city = rng.choice(CITIES, rows, p=CITY_WEIGHTS)
        city_effect = dict(zip(CITIES, rng.normal(0, 1, len(CITIES)), strict=True))
        signal = signal + 0.8 * (signed_up.month >= 7) + np.array([city_effect[c] for c in city])
    noisy = signal + rng.normal(0, 0.5, rows)
    if task == "binary":
        outcome = np.where(noisy > 0, "yes", "no")
    elif task == "multiclass":
        outcome = np.select([noisy < -0.7, noisy < 0.9], ["low", "medium"], "high")
    else:
        outcome = (10 * noisy + 50).round(3)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in rng.permutation(rows)],
            "age": age,
            "income": income,
            "plan": plan,
            "region": region,
            "active": active,
            "children": children,
            TARGET: outcome,
        }
    )
    if wide:
        frame.insert(1, "signed_up", signed_up.strftime("%d/%m/%Y"))
        frame.insert(len(frame.columns) - 1, "city", city)
        frame["signed_up"] = frame["signed_up"].mask(rng.random(rows) < 0.05)
    gaps = rng.random((rows, 3)) < 0.05
    frame["age"] = frame["age"].mask(gaps[:, 0])
    frame["plan"] = frame["plan"].mask(gaps[:, 1])
    frame["active"] = frame["active"].astype(object).mask(gaps[:, 2])
    return frame


def raw_rows(frame: pd.DataFrame, count: int = 8) -> pd.DataFrame:
    """New rows as a user would send them to predict: no target, and one region never seen."""
    rows = frame.drop(columns=[TARGET]).tail(count).reset_index(drop=True)
    rows.loc[1, "region"] = "atlantis"
    return rows
