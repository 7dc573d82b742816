"""Tests for tinynet.figures: valid PNG files, the same bytes every time."""

import subprocess
import sys

import pytest

from tinynet import figures

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """Every figure drawn twice, into two folders."""
    first = figures.write_figures(tmp_path_factory.mktemp("first"))
    second = figures.write_figures(tmp_path_factory.mktemp("second"))
    return first, second


def test_writes_every_figure_as_png(drawn):
    first, _ = drawn
    assert [p.name for p in first] == ["gradient_descent.png", "underfit_fit_overfit.png",
                                       "loss_curves.png", "filters.png"]
    for path in first:
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC), path
        assert len(data) > 10_000, path  # a real drawing, not an empty canvas


def test_same_bytes_twice_and_no_software_tag(drawn):
    for a, b in zip(*drawn, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
        assert b"matplotlib" not in a.read_bytes().lower(), a.name


def test_write_selected_figures_and_reject_unknown(tmp_path):
    paths = figures.write_figures(tmp_path, ["underfit_fit_overfit"])
    assert [p.name for p in paths] == ["underfit_fit_overfit.png"]
    with pytest.raises(ValueError, match="unknown figures"):
        figures.write_figures(tmp_path, ["nope"])


def test_command_line(tmp_path):
    out = tmp_path / "figs"
    result = subprocess.run([sys.executable, "-m", "tinynet.figures", str(out),
                             "gradient_descent"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == str(out / "gradient_descent.png")
    assert (out / "gradient_descent.png").read_bytes().startswith(PNG_MAGIC)

    failed = subprocess.run([sys.executable, "-m", "tinynet.figures", str(out), "nope"],
                            capture_output=True, text=True)
    assert failed.returncode == 2
    assert "unknown figures" in failed.stderr
