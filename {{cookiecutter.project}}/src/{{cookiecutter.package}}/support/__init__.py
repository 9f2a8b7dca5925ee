"""What every app shares and you rarely need to change: the config checks, the one-line user
errors, building a run from its config, run directories and their records, checkpoint files
(safe reading, atomic writing), the printed reports and metrics files, the HParams table and the
summary of a sweep.

What you change lives one level up: the networks and losses in `model/`, tables in `data/`,
callbacks in `callbacks/`, and every setting in `configs/`.
"""
