"""The command line: python -m tinynet train."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pytest

from tinynet import cli


def test_train_on_digits_prints_accuracies_and_saves_curves(tmp_path, capsys):
    out_png = tmp_path / "curves.png"
    code = cli.main(["train", "--epochs", "2", "--no-progress", "--output", str(out_png)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "dataset digits: 1079 train, 359 validation, 359 test" in printed
    assert "final train accuracy" in printed
    assert "test accuracy" in printed
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_default_settings_reach_95_percent_on_digits(capsys):
    assert cli.main(["train", "--no-progress"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines()
                if line.startswith("test accuracy"))
    accuracy = float(line.split()[2])
    assert accuracy >= 0.95, line


@pytest.mark.parametrize("conv1, conv2", [("2", "16"), ("1", "23"), ("16", "2")])
def test_any_filter_counts_train(conv1, conv2, capsys):
    """conv2 far wider than conv1 (it once crashed the fast path) or far narrower."""
    code = cli.main(["train", "--epochs", "3", "--no-progress", "--conv1-filters", conv1,
                     "--conv2-filters", conv2])
    assert code == 0
    printed = capsys.readouterr().out
    loss = float(re.search(r"test loss (\S+)\)", printed).group(1))
    assert loss < np.log(10) - 0.05, printed  # below chance level: it learned


def test_same_seed_same_output(capsys):
    runs = []
    for _ in range(2):
        cli.main(["train", "--epochs", "2", "--no-progress", "--seed", "3"])
        lines = capsys.readouterr().out.splitlines()
        runs.append([line for line in lines if "accuracy" in line])
    assert runs[0] == runs[1]


def test_progress_bar_goes_to_stderr(capsys):
    cli.main(["train", "--epochs", "1"])
    captured = capsys.readouterr()
    assert "training" in captured.err and "batch" in captured.err


def test_divergence_is_reported_with_advice(capsys):
    # The CLI prints train()'s divergence message itself, once, instead of
    # letting the RuntimeWarning print it a second time with a source line.
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        code = cli.main(["train", "--epochs", "2", "--no-progress", "--learning-rate", "1e4"])
    assert code == 1
    err = capsys.readouterr().err
    assert "smaller" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv, message", [
    (["train", "--epochs", "0"], "expected a whole number >= 1"),
    (["train", "--learning-rate", "fast"], "expected a number"),
    (["train", "--weight-decay", "-1"], "expected a finite number >= 0"),
    (["train", "--dataset", "cifar"], "invalid choice"),
])
def test_bad_options_are_rejected(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_mnist_offline_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("tinynet.datasets.MNIST_MIRRORS", ["http://127.0.0.1:9/"])
    code = cli.main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "could not load mnist" in err
    assert str(tmp_path) in err


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "tinynet", "--version"],
                            capture_output=True, text=True, check=True)
    assert result.stdout.startswith("tinynet ")


# -- issue 10: every failure is one line, and bad options fail before training --

def _one_line_error(capsys):
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return captured.out, lines[0]


def test_divergence_from_weight_decay_blames_weight_decay(capsys):
    code = cli.main(["train", "--epochs", "2", "--no-progress", "--weight-decay", "1e6"])
    assert code == 1
    _, line = _one_line_error(capsys)
    assert "The weight decay 1e+06 is too large for the learning rate 0.1" in line
    assert "try a smaller one" not in line


def test_negative_seed_names_the_seed_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--seed", "-1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seed: expected a whole number >= 0, got -1" in err
    assert "could not load" not in err


@pytest.mark.parametrize("make_output, message", [
    (lambda tmp: tmp / "missing" / "c.png",
     r"the folder .*missing does not exist; create it first \(mkdir -p"),
    (lambda tmp: tmp / "afile" / "c.png", r"afile is a file, not a folder"),
    (lambda tmp: tmp / "afile" / "deeper" / "c.png", r"afile is a file, not a folder"),
    (lambda tmp: tmp / "c.xyz",
     r"matplotlib cannot write \.xyz files; use one of .*\.png.*such as --output .*c\.png"),
    (lambda tmp: tmp / "adir",
     r"adir is a folder; name a file inside it, such as --output .*adir/curves\.png"),
    (lambda tmp: tmp / "curves",
     r"curves has no extension, so the format is unknown; add one, such as --output .*curves\.png"),
    (lambda tmp: "", r"--output is empty; name a file such as --output curves\.png"),
], ids=["missing-folder", "under-a-file", "under-a-file-deeper", "unknown-extension",
        "existing-folder", "no-extension", "empty"])
def test_bad_output_paths_fail_before_training(tmp_path, capsys, make_output, message):
    (tmp_path / "afile").write_text("")
    (tmp_path / "adir").mkdir()
    output = str(make_output(tmp_path))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code = cli.main(["train", "--epochs", "1", "--no-progress", "--output", output])
    assert code == 2
    out, line = _one_line_error(capsys)
    assert re.search(message, line), line
    assert line.startswith("tinynet: --output")
    assert "dataset digits" not in out  # refused before loading or training
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written


def test_unwritable_output_folder_fails_before_training(tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    # Root ignores chmod, so simulate a read-only folder at the write test.
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    code = cli.main(["train", "--epochs", "1", "--no-progress",
                     "--output", str(tmp_path / "c.png")])
    assert code == 2
    out, line = _one_line_error(capsys)
    assert "cannot write there (Permission denied); choose a folder you can write to" in line
    assert "dataset digits" not in out


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to a read-only folder")
def test_read_only_output_folder_for_real(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert cli.main(["train", "--epochs", "1", "--no-progress",
                         "--output", str(folder / "c.png")]) == 2
    finally:
        folder.chmod(0o755)
    assert "cannot write there" in _one_line_error(capsys)[1]


@pytest.mark.parametrize("name", ["curves.png", "curves.PDF", "curves.svg"])
def test_output_is_written_under_exactly_the_printed_name(tmp_path, capsys, name):
    target = tmp_path / name
    assert cli.main(["train", "--epochs", "1", "--no-progress", "--output", str(target)]) == 0
    assert f"curves saved to {target}" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_failed_save_after_training_is_one_line(tmp_path, capsys, monkeypatch):
    from matplotlib.figure import Figure

    def disk_full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Figure, "savefig", disk_full)
    code = cli.main(["train", "--epochs", "1", "--no-progress",
                     "--output", str(tmp_path / "c.png")])
    assert code == 1
    _, line = _one_line_error(capsys)
    assert line == (f"tinynet: could not save the curves to {tmp_path / 'c.png'}: "
                    "No space left on device.")


def test_huge_filter_counts_are_refused_before_allocating(capsys):
    start = time.perf_counter()
    code = cli.main(["train", "--no-progress", "--conv2-filters", "1000000000"])
    assert code == 1
    assert time.perf_counter() - start < 2
    out, line = _one_line_error(capsys)
    assert re.search(r"this run needs about [\d.]+ TB of memory \(--conv1-filters 16, "
                     r"--conv2-filters 1000000000, --batch-size 32\) but only about .* is "
                     r"available; use fewer filters", line), line
    assert "dataset digits" not in out


def test_memory_estimate_grows_with_filters_and_fits_the_defaults():
    small = cli.estimate_memory("mnist", 16, 32, 100)
    assert small < 1e9  # the default MNIST run fits in 1 GB
    assert cli.estimate_memory("mnist", 16, 64, 100) > small
    assert cli.estimate_memory("digits", 16, 10**9, 32) > 1e14


def test_too_few_mnist_training_images_is_a_clear_error(capsys, monkeypatch):
    def tiny_mnist(cache_dir=None):
        x = np.zeros((5000, 1, 28, 28), np.float32)
        t = np.zeros(5000, np.int64)
        return (x, t), (x[:10], t[:10])
    monkeypatch.setattr("tinynet.datasets.load_mnist", tiny_mnist)
    assert cli.main(["train", "--dataset", "mnist", "--no-progress"]) == 2
    _, line = _one_line_error(capsys)
    assert ("could not load mnist: the MNIST training file holds only 5,000 images, but the CLI "
            "holds out 5,000 for validation and needs at least 5,001") in line


def test_ctrl_c_during_training_says_how_far_it_got(capsys, monkeypatch):
    real_train = cli.train

    def interrupted_train(*args, callback, **kwargs):
        def after_epoch(history):
            callback(history)
            if len(history.epoch) == 3:  # epoch 0 (before training) and two epochs
                raise KeyboardInterrupt
        return real_train(*args, callback=after_epoch, **kwargs)
    monkeypatch.setattr(cli, "train", interrupted_train)
    assert cli.main(["train", "--epochs", "5", "--no-progress"]) == 130
    _, line = _one_line_error(capsys)
    assert re.match(r"tinynet: interrupted after 2 of 5 epochs \(68 of 170 iterations; "
                    r"last: epoch 2, train loss .*\); nothing was saved\.$", line), line


def test_unexpected_errors_are_one_line(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something broke")
    monkeypatch.setattr(cli, "init_params", broken)
    assert cli.main(["train", "--no-progress"]) == 1
    _, line = _one_line_error(capsys)
    assert line.startswith("tinynet: unexpected error: RuntimeError: something broke.")


@pytest.mark.parametrize("sig, code, message", [
    (signal.SIGINT, 130, "tinynet: interrupted "),
    (signal.SIGTERM, 143, "tinynet: terminated (SIGTERM)"),
])
def test_a_real_signal_stops_the_cli_with_one_line(sig, code, message, tmp_path):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "tinynet", "train", "--epochs", "500", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        for line in process.stdout:  # wait until training has started
            if line.startswith("epochs ") or time.monotonic() > deadline:
                break
        time.sleep(0.3)
        process.send_signal(sig)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), err
