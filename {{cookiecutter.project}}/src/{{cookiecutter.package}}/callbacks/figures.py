"""Pictures for TensorBoard's Images tab, drawn with matplotlib from plain arrays.

Only matplotlib's object-oriented API is used (no pyplot), so drawing needs no display, changes no
global state and works the same in a DDP worker or a headless server.
"""

from collections.abc import Sequence

import numpy as np


def figure_image(figure) -> np.ndarray:
    """The figure as an RGB image, height x width x 3, uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def confusion_matrix_image(matrix: np.ndarray, classes: Sequence[object]) -> np.ndarray:
    """Rows are the true classes, columns the predicted ones; every cell shows its count."""
    from matplotlib.figure import Figure

    size = 1.6 + 0.55 * len(classes)
    figure = Figure(figsize=(size + 1.2, size), dpi=100)
    axes = figure.add_subplot()
    shown = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(shown, ax=axes, fraction=0.046, pad=0.04)
    ticks = range(len(classes))
    labels = [str(c) for c in classes]
    axes.set(
        xticks=ticks,
        yticks=ticks,
        xticklabels=labels,
        yticklabels=labels,
        xlabel="predicted",
        ylabel="true",
        title="test confusion matrix",
    )
    middle = matrix.max() / 2
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(
            column,
            row,
            int(count),
            ha="center",
            va="center",
            color="white" if count > middle else "black",
        )
    figure.tight_layout()
    return figure_image(figure)


def decision_boundary_image(
    grid_x: np.ndarray,
    grid_y: np.ndarray,
    scores: np.ndarray,
    points: np.ndarray,
    labels: np.ndarray,
    axis_names: Sequence[str],
    title: str,
) -> np.ndarray:
    """The predicted class over the plane, with the points and their true classes on top.

    `scores` is the probability of class 1 on the grid (binary: shaded from 0 to 1 with the 0.5
    line drawn), or the predicted class index (multiclass: one colour per class).
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 4.4), dpi=100)
    axes = figure.add_subplot()
    palette = ListedColormap(
        [
            "#1f77b4",
            "#d62728",
            "#2ca02c",
            "#ff7f0e",
            "#9467bd",
            "#8c564b",
            "#e377c2",
            "#7f7f7f",
            "#bcbd22",
            "#17becf",
        ]
    )
    if scores.dtype.kind == "f":
        axes.contourf(
            grid_x, grid_y, scores, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6
        )
        axes.contour(grid_x, grid_y, scores, levels=[0.5], colors="black", linewidths=1.5)
    else:
        classes = int(max(scores.max(), labels.max())) + 1
        axes.contourf(
            grid_x,
            grid_y,
            scores,
            levels=np.arange(classes + 1) - 0.5,
            cmap=ListedColormap(palette.colors[:classes]),
            alpha=0.35,
        )
    axes.scatter(
        points[:, 0],
        points[:, 1],
        c=labels,
        cmap=palette,
        vmin=0,
        vmax=9,
        s=10,
        edgecolors="white",
        linewidths=0.4,
    )
    axes.set(xlabel=axis_names[0], ylabel=axis_names[1], title=title)
    figure.tight_layout()
    return figure_image(figure)
