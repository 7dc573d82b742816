"""The course figures, drawn from package code: ``python -m tinynet.figures OUTDIR``.

=============================  ==================================================
file                           what it shows
=============================  ==================================================
``gradient_descent.png``       learning rate too small, about right, too large
                               on :func:`tinynet.experiments.bumpy`
``underfit_fit_overfit.png``   a line, a parabola and a degree-15 polynomial
                               fitted to 20 noisy samples of a parabola
``loss_curves.png``            TinyNet on the bundled digits: loss and accuracy
                               per epoch, training and validation
``filters.png``                the first-layer filters of a trained TinyNet, and
                               their outputs for one digit
=============================  ==================================================

Each figure is made with the object API (no pyplot state), from fixed seeds,
and saved without version or date metadata, so the same code gives the same
bytes. ``make figures`` redraws them into ``figures/``.
"""

import argparse
import sys
import warnings
from pathlib import Path

from matplotlib.figure import Figure

from . import experiments
from .plotting import new_figure, plot_feature_maps, plot_filters, plot_history, plot_images

__all__ = ["FIGURES", "draw_gradient_descent", "draw_underfit_fit_overfit",
           "draw_loss_curves", "draw_filters", "save_figure", "write_figures", "main"]

DPI = 150


def draw_gradient_descent():
    """Three learning rates on the bumpy loss, from w = 2, 30 steps each."""
    fig, axes = new_figure(ncols=3, width=4.3, height=3.5)
    for ax, (learning_rate, label) in zip(axes, [(0.01, "too small"), (0.1, "about right"),
                                                 (0.45, "too large")], strict=True):
        result = experiments.gradient_descent_experiment(learning_rate=learning_rate,
                                                         start=2.0, steps=30, ax=ax)
        ax.set_title(f"{label}: learning rate {learning_rate:g}\n"
                     f"after 30 steps: {result['verdict']}", fontsize="medium")
    fig.suptitle("Gradient descent on a loss with two valleys, starting at w = 2")
    return fig


def draw_underfit_fit_overfit():
    """Degree 1, 2 and 15 fitted to 20 noisy samples of a parabola."""
    fig, axes = new_figure(ncols=3, width=4.3, height=3.5)
    for ax, (degree, label) in zip(axes, [(1, "underfits"), (2, "fits"), (15, "overfits")],
                                   strict=True):
        result = experiments.polynomial_experiment(degree=degree, ax=ax)
        ax.set_title(f"degree {degree} {label}\ntrain MSE {result['train_mse']:.2g}, "
                     f"test MSE {result['test_mse']:.2g}", fontsize="medium")
    fig.suptitle("Polynomials fitted to 20 noisy samples of a parabola "
                 "(test MSE on 500 fresh samples)")
    return fig


def draw_loss_curves():
    """TinyNet (8 and 16 filters) trained for 15 epochs on the bundled digits."""
    _, history = experiments.train_digits(learning_rate=0.1, epochs=15, batch_size=32)
    fig, axes = new_figure(ncols=2, width=4.8, height=3.5)
    plot_history(history, axes)
    axes[0].set_title("loss (the grey line: each minibatch)", fontsize="medium")
    axes[1].set_title(f"accuracy: {history.val_accuracy[-1]:.1%} on validation "
                      f"after {history.epoch[-1]} epochs", fontsize="medium")
    fig.suptitle("TinyNet on the 8x8 digits: 1,079 training and 359 validation images, "
                 "learning rate 0.1, batch size 32")
    return fig


def draw_filters():
    """The 8 first-layer filters after 15 epochs, and what each one makes of a digit."""
    net, history = experiments.train_digits(learning_rate=0.1, epochs=15, batch_size=32)
    split = experiments.digits_split(0)
    image = split.x_val[:1]  # (1, 1, 8, 8): the first validation image
    maps = net.relu1.forward(net.conv1.forward(image))[0]  # (8, 8, 8): 8 channels of 8x8

    fig = Figure(figsize=(9.6, 3.3), layout="constrained")
    axes = fig.subplots(2, 9)  # column 0: the input; columns 1-8: one per filter
    axes[0, 0].set_axis_off()
    plot_filters(net.params["W_conv1"], axes=axes[0, 1:])
    plot_images(image, labels=split.t_val[:1], axes=axes[1, :1])
    axes[1, 0].set_title(f"input: a {split.t_val[0]}", fontsize="x-small")
    plot_feature_maps(maps, axes=axes[1, 1:])
    axes[0, 0].text(0.5, 0.5, "3x3 filters\n(red +, blue -)", ha="center", va="center",
                    fontsize="small", transform=axes[0, 0].transAxes)
    fig.suptitle(f"TinyNet's first layer after 15 epochs ({history.val_accuracy[-1]:.0%} "
                 f"validation accuracy): filters, and their ReLU outputs for one digit")
    return fig


FIGURES = {
    "gradient_descent": draw_gradient_descent,
    "underfit_fit_overfit": draw_underfit_fit_overfit,
    "loss_curves": draw_loss_curves,
    "filters": draw_filters,
}


def save_figure(fig, path):
    """Save as PNG without the Software tag, so the bytes depend only on the drawing."""
    fig.savefig(path, dpi=DPI, metadata={"Software": None})


def write_figures(outdir, names=None):
    """Draw the named figures (default: all) into ``outdir``; return their paths."""
    outdir = Path(outdir)
    names = list(FIGURES) if names is None else list(names)
    unknown = sorted(set(names) - set(FIGURES))
    if unknown:
        raise ValueError(f"unknown figures {unknown}; choose among {sorted(FIGURES)}.")
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # a diverged run is a bug here
            fig = FIGURES[name]()
        path = outdir / f"{name}.png"
        save_figure(fig, path)
        paths.append(path)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tinynet.figures",
                                     description="Draw the course figures as PNG files.")
    parser.add_argument("outdir", help="folder to write the PNG files to (created if needed)")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"figures to draw (default: all of {', '.join(FIGURES)})")
    args = parser.parse_args(argv)
    try:
        paths = write_figures(args.outdir, args.names or None)
    except ValueError as error:
        parser.error(str(error))
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
