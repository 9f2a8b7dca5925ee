"""Pictures for TensorBoard's Images tab, drawn with matplotlib from plain arrays.

Only matplotlib's object-oriented API is used (no pyplot), so drawing needs no display, changes no
global state and works the same in a DDP worker or a headless server.
"""

from collections.abc import Mapping, Sequence

import numpy as np


def figure_image(figure) -> np.ndarray:
    """The figure as an RGB image, height x width x 3, uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def confusion_matrix_image(
    matrices: Mapping[str, np.ndarray], classes: Sequence[object]
) -> np.ndarray:
    """One panel per matrix, side by side, titled by its key (e.g. "at 0.5"); rows are the true
    classes, columns the predicted ones; every cell shows its count."""
    from matplotlib.figure import Figure

    size = 1.6 + 0.55 * len(classes)
    figure = Figure(figsize=((size + 1.2) * len(matrices), size), dpi=100)
    ticks = range(len(classes))
    labels = [str(c) for c in classes]
    for index, (title, matrix) in enumerate(matrices.items()):
        axes = figure.add_subplot(1, len(matrices), index + 1)
        shown = axes.imshow(matrix, cmap="Blues")
        figure.colorbar(shown, ax=axes, fraction=0.046, pad=0.04)
        axes.set(
            xticks=ticks,
            yticks=ticks,
            xticklabels=labels,
            yticklabels=labels,
            xlabel="predicted",
            ylabel="true",
            title=f"test confusion matrix\n{title}".strip(),
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


def precision_recall_image(
    recall: np.ndarray,
    precision: np.ndarray,
    points: Mapping[str, tuple[float, float]],
    positive: object,
) -> np.ndarray:
    """The precision-recall curve of the `positive` class, with each operating point (recall,
    precision) marked and named by its key, e.g. "at 0.5"."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 4.4), dpi=100)
    axes = figure.add_subplot()
    axes.plot(recall, precision, color="#1f77b4", linewidth=1.5)
    for (title, (at_recall, at_precision)), marker in zip(points.items(), "os^Dv", strict=False):
        axes.plot(
            [at_recall],
            [at_precision],
            marker,
            markersize=8,
            label=f"{title}: recall {at_recall:.2f}, precision {at_precision:.2f}",
        )
    axes.set(
        xlim=(0, 1.02),
        ylim=(0, 1.02),
        xlabel="recall",
        ylabel="precision",
        title=f"test precision-recall of {positive}",
    )
    axes.legend(loc="lower left", fontsize=8)
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
