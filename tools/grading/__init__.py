"""Grading the exercise edition: each student in a sandbox, scores decided outside it.

:mod:`grading.autograde` runs a class through the pieces below, in this order
(``tools/course.py grade`` is its command line):

* :mod:`grading.course`: each notebook's graded cells, read from the source
  notebooks, the course secret and each cell's case key;
* :mod:`grading.intake`: snapshot the submissions (symlinks, non-regular files
  and oversize notebooks refused); the SUBMISSIONS folder is only read;
* :mod:`grading.flags`: what an instructor should read by hand (a solution that
  calls the package's own answer, touches the environment, the checkers, files
  outside its folder, ...), found by reading the code, never by running it;
* :mod:`grading.sandbox`: bubblewrap around each student's run: read-only
  system and package, a fresh HOME, no network, limits on memory, processes,
  file size and time;
* :mod:`grading.runner`: runs *inside* the sandbox: executes the student's
  notebooks and records what the student's functions return on the cases of
  each graded cell (nothing it writes is trusted);
* :mod:`grading.results`: the records a student's grading produces;
* :mod:`grading.report`: grades.csv, the gradebook and the HTML feedback,
  written by the trusted parent only.
"""
