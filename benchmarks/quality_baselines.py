"""The models the generated project is compared with, set up as a careful scikit-learn user would.

- HistGradientBoosting with its default settings, text columns as native categories (an ordinal
  code per level; a column with more levels than HGB's 255 bins keeps its 254 most frequent levels
  and pools the rest, as OrdinalEncoder's max_categories does). HGB handles missing values itself.
- A linear model: LogisticRegression or Ridge after median imputation and standardisation of the
  numbers and one-hot encoding of the text (a "missing" level; levels unseen in training ignored).
- RealMLP-TD (pytabkit), its tuned defaults, when pytabkit is installed: numbers median-imputed
  (it refuses missing numbers), text columns as categories, which it one-hot encodes or embeds.

All of them see the same inputs: the table's columns but the target, with a date column (a
timestamp, or text whose every value is written as an ISO date) turned into numbers (year, month,
day, day of week, day of year, hour, and days since 1970), since no scikit-learn model reads dates.
"""

import re

import numpy as np
import pandas as pd

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$")
HGB_MAX_LEVELS = 255


def is_date_text(values: pd.Series) -> bool:
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return False
    present = values.dropna().astype(str)
    return len(present) > 0 and bool(present.str.match(ISO_DATE).all())


def date_parts(name: str, values: pd.Series) -> pd.DataFrame:
    moments = pd.to_datetime(values, format="ISO8601")
    parts = {
        "year": moments.dt.year,
        "month": moments.dt.month,
        "day": moments.dt.day,
        "day_of_week": moments.dt.dayofweek,
        "day_of_year": moments.dt.dayofyear,
        "hour": moments.dt.hour,
        "days": (moments - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1),
    }
    return pd.DataFrame({f"{name}_{part}": col.astype("float64") for part, col in parts.items()})


def model_inputs(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, list[str]]:
    """The inputs every baseline reads, and which of them are text (categorical)."""
    columns, text = [], []
    for name in frame.columns.drop(target):
        values = frame[name]
        if pd.api.types.is_datetime64_any_dtype(values) or is_date_text(values):
            columns.append(date_parts(name, values))
        elif pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            # Text (and booleans) as categories; a missing value stays missing (NaN).
            text.append(name)
            columns.append(values.astype("string").astype(object).where(values.notna(), np.nan))
        else:
            columns.append(values.astype("float64"))
    return pd.concat(columns, axis=1), text


def hist_gradient_boosting(task: str, text: list[str]):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    codes = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=HGB_MAX_LEVELS,
    )
    inputs = ColumnTransformer(
        [("text", codes, text)], remainder="passthrough", verbose_feature_names_out=False
    ).set_output(transform="pandas")
    if task == "regression":
        booster = HistGradientBoostingRegressor(categorical_features=text, random_state=0)
    else:
        booster = HistGradientBoostingClassifier(categorical_features=text, random_state=0)
    return make_pipeline(inputs, booster)


def linear(task: str, text: list[str]):
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    levels = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"),
        OneHotEncoder(handle_unknown="ignore"),
    )
    inputs = ColumnTransformer(
        [("numbers", numbers, make_column_selector(dtype_include="number")), ("text", levels, text)]
    )
    # lbfgs stops at 100 iterations by default, short of convergence on most of these tables.
    model = Ridge() if task == "regression" else LogisticRegression(max_iter=2000)
    return make_pipeline(inputs, model)


def realmlp_available() -> bool:
    try:
        import pytabkit  # noqa: F401
    except ImportError:
        return False
    return True


def realmlp(task: str, text: list[str], threads: int):
    """RealMLP-TD after median imputation of the numbers, which it leaves to its user; it fits
    on the rows it is given and picks its best epoch on a fifth of them, as pytabkit does."""
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    numbers = make_column_selector(dtype_include="number")
    inputs = ColumnTransformer(
        [
            ("numbers", SimpleImputer(strategy="median"), numbers),
            ("text", SimpleImputer(strategy="constant", fill_value="missing"), text),
        ],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    model = RealMLP_TD_Regressor if task == "regression" else RealMLP_TD_Classifier
    network = model(device="cpu", random_state=0, n_threads=threads, verbosity=0)
    return make_pipeline(inputs, network)


def score(task: str, model, inputs: pd.DataFrame, labels: pd.Series) -> float:
    """ROC AUC (binary: the second of the sorted classes is positive, as in the project),
    accuracy (multiclass) or R2 (regression)."""
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    if task == "regression":
        return float(r2_score(labels, model.predict(inputs)))
    if task == "binary":
        classes = list(model.classes_)
        positive = sorted(classes)[1]
        scores = model.predict_proba(inputs)[:, classes.index(positive)]
        return float(roc_auc_score(labels == positive, scores))
    return float(accuracy_score(labels, model.predict(inputs)))
