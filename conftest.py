"""Report how long each notebook takes under nbval (a budget, not an assertion)."""

from collections import defaultdict

NOTEBOOK_BUDGET_S = 60
SUITE_BUDGET_S = 180

_durations = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _durations[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _durations:
        return
    write = terminalreporter.write_line
    terminalreporter.section(f"notebook run times (budget: {NOTEBOOK_BUDGET_S} s each, "
                             f"{SUITE_BUDGET_S} s in all)")
    for path, seconds in sorted(_durations.items()):
        flag = "" if seconds <= NOTEBOOK_BUDGET_S else "  OVER BUDGET"
        write(f"{seconds:7.1f} s  {path}{flag}")
    total = sum(_durations.values())
    flag = "" if total <= SUITE_BUDGET_S else "  OVER BUDGET"
    write(f"{total:7.1f} s  all notebooks{flag}")
