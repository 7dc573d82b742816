"""The command line: python -m tinynet train."""

import subprocess
import sys

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
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("test accuracy"))
    accuracy = float(line.split()[2])
    assert accuracy >= 0.95, line


def test_same_seed_same_output(capsys):
    runs = []
    for _ in range(2):
        cli.main(["train", "--epochs", "2", "--no-progress", "--seed", "3"])
        lines = capsys.readouterr().out.splitlines()
        runs.append([l for l in lines if "accuracy" in l])
    assert runs[0] == runs[1]


def test_progress_bar_goes_to_stderr(capsys):
    cli.main(["train", "--epochs", "1"])
    captured = capsys.readouterr()
    assert "training" in captured.err and "batch" in captured.err


def test_divergence_is_reported_with_advice(capsys):
    with pytest.warns(RuntimeWarning):
        code = cli.main(["train", "--epochs", "2", "--no-progress", "--learning-rate", "1e4"])
    assert code == 1
    assert "smaller" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["train", "--epochs", "0"], "expected a number >= 1"),
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
