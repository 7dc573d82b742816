"""Command line: ``python -m tinynet train`` (also installed as ``tinynet``).

Trains TinyNet on the bundled 8x8 digits (or MNIST, downloaded on demand),
shows progress, prints the final train and test accuracy, and can save the
loss and accuracy curves as a PNG.

Every failure ends in one line on stderr that names its cause, never a
traceback: exit code 2 for bad options (checked before any training, the
``--output`` path included), 1 for a run that failed (divergence, no
memory), 130 for Ctrl-C (with how far training got).
"""

import argparse
import os
import signal
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from . import __version__, datasets
from ._checks import probe_writable
from .model import init_params
from .plotting import new_figure, plot_history
from .training import train

DEFAULTS = {
    # Tuned on the bundled digits: 96% to 98% test accuracy over seeds 0-4,
    # in a few seconds.
    "digits": dict(epochs=20, batch_size=32, learning_rate=0.1, conv1_filters=16,
                   conv2_filters=32),
    "mnist": dict(epochs=3, batch_size=100, learning_rate=0.1, conv1_filters=16,
                  conv2_filters=32),
}


def _int_at_least(minimum):
    """An argparse type: a whole number >= ``minimum``, with a one-line error."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected a whole number >= {minimum}, got {value}")
        return value
    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tinynet", description="TinyNet: a small CNN built from scratch in numpy.")
    parser.add_argument("--version", action="version", version=f"tinynet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser(
        "train", help="train TinyNet and report its accuracy",
        description="Train TinyNet with SGD and L2 weight decay; print train and test accuracy.")
    p.add_argument("--dataset", choices=sorted(DEFAULTS), default="digits",
                   help="bundled 8x8 digits (offline, default) or MNIST (downloaded once)")
    p.add_argument("--epochs", type=_positive_int, help="passes over the training set")
    p.add_argument("--batch-size", type=_positive_int, help="samples per SGD step")
    p.add_argument("--learning-rate", type=_non_negative_float, help="SGD step size")
    p.add_argument("--weight-decay", type=_non_negative_float, default=1e-4,
                   help="L2 coefficient lambda (default 1e-4)")
    p.add_argument("--conv1-filters", type=_positive_int)
    p.add_argument("--conv2-filters", type=_positive_int)
    p.add_argument("--seed", type=_non_negative_int, default=0,
                   help="seed (>= 0) for initialisation and shuffling")
    p.add_argument("--output", metavar="PNG",
                   help="save the loss and accuracy curves to this file; its extension picks "
                        "the format (.png, .pdf, .svg, ...) and is required. The folder must "
                        "exist and be writable (checked before training)")
    p.add_argument("--data-dir", help="MNIST cache directory (default: $TINYNET_DATA_DIR "
                                      "or ~/.cache/tinynet)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


class CommandError(Exception):
    """A problem the user can fix; ``main`` prints it as one line and exits with ``code``."""

    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code


#: Images held out of the MNIST training set for validation.
MNIST_VALIDATION = 5000
#: Shape of one image and dtype of each data set (for the memory estimate).
_IMAGE_SHAPE = {"digits": ((1, 8, 8), 8, 1797), "mnist": ((1, 28, 28), 4, 70_000)}


def _load(dataset, seed, data_dir):
    if dataset == "digits":
        split = datasets.load_digits_split(seed=seed)
        return (split.x_train, split.t_train, split.x_val, split.t_val,
                split.x_test, split.t_test)
    (x_train, t_train), (x_test, t_test) = datasets.load_mnist(cache_dir=data_dir)
    if len(x_train) <= MNIST_VALIDATION:
        raise ValueError(
            f"the MNIST training file holds only {len(x_train):,} images, but the CLI "
            f"holds out {MNIST_VALIDATION:,} for validation and needs at least "
            f"{MNIST_VALIDATION + 1:,} (the real file has 60,000). Delete the files in the "
            "cache folder's 'mnist' subfolder so they are downloaded again."
        )
    order = np.random.default_rng(seed).permutation(len(x_train))
    val, keep = order[:MNIST_VALIDATION], order[MNIST_VALIDATION:]
    return x_train[keep], t_train[keep], x_train[val], t_train[val], x_test, t_test


def check_output(text):
    """Check the ``--output`` path before training; return (path, format).

    Decisions: the name must end in an extension that matplotlib can write
    (it picks the format, and the file is written under exactly that name);
    no extension, an empty name and an existing folder are refused rather
    than silently changed to ``<name>.png`` or ignored. The folder must exist
    (it is not created) and be writable; an existing file is overwritten.
    """
    from matplotlib.backend_bases import FigureCanvasBase

    if text == "":
        raise CommandError("--output is empty; name a file such as --output curves.png.")
    path = Path(text).expanduser()
    if path.is_dir():
        raise CommandError(
            f"--output {text} is a folder; name a file inside it, such as "
            f"--output {path / 'curves.png'}.")
    formats = FigureCanvasBase.get_supported_filetypes()
    listing = ", ".join("." + ext for ext in sorted(formats))
    extension = path.suffix.lower().lstrip(".")
    if not extension:
        raise CommandError(
            f"--output {text} has no extension, so the format is unknown; add one, such "
            f"as --output {text}.png (supported: {listing}).")
    if extension not in formats:
        raise CommandError(
            f"--output {text}: matplotlib cannot write .{extension} files; use one of "
            f"{listing}, such as --output {path.with_suffix('.png')}.")
    folder = path.parent
    ancestor = folder
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        raise CommandError(
            f"--output {text}: {ancestor} is a file, not a folder; choose a path in a folder.")
    if not folder.exists():
        raise CommandError(
            f"--output {text}: the folder {folder} does not exist; create it first "
            f"(mkdir -p {folder}) or choose another.")
    if path.exists() and not path.is_file():
        raise CommandError(f"--output {text} exists and is not a regular file; "
                           "choose another name.")
    try:  # a real write test: os.access is fooled by root and read-only mounts
        if path.exists():
            with open(path, "ab"):
                pass
        else:
            probe_writable(folder)
    except OSError as error:
        raise CommandError(
            f"--output {text}: cannot write there ({error.strerror or error}); choose a "
            "folder you can write to.") from None
    return path, extension


def _available_memory():
    """Bytes of memory available now (Linux: MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def estimate_memory(dataset, conv1_filters, conv2_filters, batch_size, eval_batch_size=512):
    """A rough upper estimate, in bytes, of what one CLI training run allocates.

    Parameters are held about four times (the initial ones, the trained copy,
    the gradients, a temporary in the step); activations about three times
    (the forward caches, the im2col columns, the backward pass) for the
    larger of the training and the evaluation batch; plus the data set.
    """
    (C, H, W), itemsize, n_images = _IMAGE_SHAPE[dataset]
    F1, F2 = conv1_filters, conv2_filters
    H2, W2, H4, W4 = H // 2, W // 2, H // 4, W // 4
    n_params = F1 * C * 9 + F1 + F2 * F1 * 9 + F2 + F2 * H4 * W4 * 10 + 10
    per_sample = (C * 9 * H * W + 2 * F1 * H * W + F1 * H2 * W2 * 9 + 2 * F2 * H2 * W2
                  + F2 * H4 * W4)
    batch = max(batch_size, eval_batch_size)
    return itemsize * (4 * n_params + 3 * batch * per_sample + n_images * C * H * W)


def _size(n_bytes):
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n_bytes < 1000 or unit == "PB":
            return f"{n_bytes:.0f} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000


def _check_memory(dataset, settings):
    needed = estimate_memory(dataset, settings["conv1_filters"], settings["conv2_filters"],
                             settings["batch_size"])
    available = _available_memory()
    if available is not None and needed > available:
        raise CommandError(
            f"this run needs about {_size(needed)} of memory (--conv1-filters "
            f"{settings['conv1_filters']}, --conv2-filters {settings['conv2_filters']}, "
            f"--batch-size {settings['batch_size']}) but only about {_size(available)} is "
            f"available; use fewer filters or a smaller batch (the defaults are "
            f"{DEFAULTS[dataset]['conv1_filters']}, {DEFAULTS[dataset]['conv2_filters']} and "
            f"{DEFAULTS[dataset]['batch_size']}).", code=1)


class _Progress:
    """Remembers how far training got, for the Ctrl-C message (a train() callback)."""

    def __init__(self, epochs):
        self.epochs, self.history = epochs, None

    def __call__(self, history):
        self.history = history

    def describe(self):
        if self.history is None:
            return f"during epoch 1 of {self.epochs}, before any epoch completed"
        done = len(self.history.epoch) - 1
        total = self.epochs * self.history.iterations_per_epoch
        return (f"after {done} of {self.epochs} epochs ({len(self.history.iteration_loss)} of "
                f"{total} iterations; last: {self.history.summary()})")


def run_train(args):
    settings = dict(DEFAULTS[args.dataset])
    for key in settings:
        value = getattr(args, key)
        if value is not None:
            settings[key] = value
    output = None if args.output is None else check_output(args.output)
    _check_memory(args.dataset, settings)
    try:
        x_train, t_train, x_val, t_val, x_test, t_test = _load(
            args.dataset, args.seed, args.data_dir)
    except KeyboardInterrupt:
        raise CommandError(f"interrupted while loading {args.dataset}; nothing was trained "
                           "(no partial file is kept).", code=130) from None
    except (OSError, ValueError, RuntimeError) as error:  # these explain themselves
        raise CommandError(f"could not load {args.dataset}: {error}") from None

    params = init_params(x_train.shape[1:], settings["conv1_filters"],
                         settings["conv2_filters"], num_classes=10, rng=args.seed,
                         dtype=x_train.dtype)
    print(f"dataset {args.dataset}: {len(x_train)} train, {len(x_val)} validation, "
          f"{len(x_test)} test images of shape {x_train.shape[1:]}")
    print(f"epochs {settings['epochs']}, batch size {settings['batch_size']}, "
          f"learning rate {settings['learning_rate']:g}, weight decay {args.weight_decay:g}, "
          f"seed {args.seed}")
    sys.stdout.flush()
    start = time.perf_counter()
    progress = _Progress(settings["epochs"])
    try:
        with warnings.catch_warnings():
            # train() warns on divergence; the CLI prints the same message once, below.
            warnings.simplefilter("ignore", RuntimeWarning)
            net, history = train(
                params, x_train, t_train, x_val, t_val, epochs=settings["epochs"],
                batch_size=settings["batch_size"], learning_rate=settings["learning_rate"],
                weight_decay=args.weight_decay, seed=args.seed, progress=not args.no_progress,
                callback=progress)
    except KeyboardInterrupt:
        raise CommandError(f"interrupted {progress.describe()}; nothing was saved.",
                           code=130) from None
    seconds = time.perf_counter() - start
    if history.diverged:
        print(f"tinynet: {history.message}", file=sys.stderr)
        return 1
    test_loss, test_accuracy = net.evaluate(x_test, t_test)
    print(f"trained in {seconds:.1f} s")
    print(f"final train accuracy {history.train_accuracy[-1]:.4f}, "
          f"validation accuracy {history.val_accuracy[-1]:.4f}")
    print(f"test accuracy {test_accuracy:.4f} (test loss {test_loss:.4f})")
    if output is not None:
        path, extension = output
        fig, axes = new_figure(ncols=2)
        plot_history(history, axes, title=f"TinyNet on {args.dataset}")
        try:  # format= keeps matplotlib from changing the name
            fig.savefig(path, format=extension, dpi=120)
        except OSError as error:
            raise CommandError(f"could not save the curves to {path}: "
                               f"{error.strerror or error}.", code=1) from None
        print(f"curves saved to {path}")
    return 0


class _Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C so that cleanup (partial downloads) runs."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def main(argv=None):
    """Run the command line; return the exit code. No traceback reaches the user."""
    args = build_parser().parse_args(argv)
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave SIGTERM alone
        pass
    try:
        if args.command == "train":
            return run_train(args)
        return 2  # pragma: no cover - argparse requires a command
    except CommandError as error:
        print(f"tinynet: {error}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        print("tinynet: interrupted.", file=sys.stderr)
        return 130
    except _Terminated:
        print("tinynet: terminated (SIGTERM); nothing was saved.", file=sys.stderr)
        return 143
    except MemoryError as error:
        print(f"tinynet: out of memory ({error}); use fewer filters or a smaller batch.",
              file=sys.stderr)
        return 1
    except Exception as error:  # a bug: still one line, with what to report
        print(f"tinynet: unexpected error: {type(error).__name__}: {error}. "
              "Please report it with the command you ran.", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
