"""Time `make grade` on a class of complete students: per student and for the class.

    python benchmarks/bench_grading.py --students 30 --jobs 1 2

Each student hands in all 14 notebooks of the complete edition (the slowest
submission: every exercise runs). The study cache is filled first and timed
apart; each JOBS value then grades the same class from scratch. Prints the
per-student times (median and range, from each student's saved result), the
class's wall time, and what that predicts for a larger class on more cores,
assuming students spread evenly over the cores.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def grade(submissions, out, jobs, secret, cache):
    command = [sys.executable, str(ROOT / "tools" / "course.py"), "grade", str(submissions),
               "--out", str(out), "--jobs", str(jobs), "--secret", str(secret),
               "--cache", str(cache)]
    began = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.monotonic() - began
    if done.returncode != 0:
        sys.exit(done.stdout + done.stderr)
    return seconds, done.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "study-cache")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        submissions = folder / "submissions"
        for k in range(args.students):
            student = submissions / f"student{k:03d}"
            student.mkdir(parents=True)
            for notebook in NOTEBOOKS:
                shutil.copyfile(notebook, student / notebook.name)
        secret = folder / "secret"
        # fill the cache with one student (timed apart: it happens once per course)
        one = folder / "one"
        (one / "student000").mkdir(parents=True)
        for notebook in NOTEBOOKS:
            shutil.copyfile(notebook, one / "student000" / notebook.name)
        seconds, output = grade(one, folder / "warm", 1, secret, args.cache)
        filled = [line for line in output.splitlines() if line.startswith("study cache")]
        print(f"warm-up (one student{', cache filled' if filled else ', cache already full'}): "
              f"{seconds:.0f} s")
        for jobs in args.jobs:
            out = folder / f"out-{jobs}"
            seconds, output = grade(submissions, out, jobs, secret, args.cache)
            times = [json.loads(path.read_text())["result"]["seconds"]
                     for path in (out / "results").glob("*.json")]
            points = {line.split(": ")[1].split(" of ")[0] for line in output.splitlines()
                      if " of 82 points" in line}
            print(f"JOBS={jobs}: {args.students} students in {seconds:.0f} s "
                  f"({seconds / 60:.1f} min); per student median {statistics.median(times):.1f} s "
                  f"(range {min(times):.1f}-{max(times):.1f} s); points: {sorted(points)}")
            per_core = seconds * jobs / args.students
            print(f"  predicts {per_core:.0f} s of one core per student: 300 students on 16 "
                  f"cores (JOBS=16) in about {300 * per_core / 16 / 60:.0f} min")


if __name__ == "__main__":
    main()
