"""Adversarial tests of the exercise checkers' shared runner.

For every checker: a correct answer passes, and the typical wrong answers,
generated from it (an in-place write into each array argument, a list for a
tuple, a generator, None, a string, a ragged list, the wrong number of
results, complex and object dtypes, NaN, inf, a wrong shape, a small error,
float32 arithmetic, an endless loop, an unrelated exception), each raise
ExerciseFailed with a message that says what is wrong; never a pass, never a
numpy or TypeError crash from the checker itself.
"""

import contextlib
import inspect
import io
import re
import signal
import threading
import time

import numpy as np
import pytest

import tinynet.exercises as framework
from tinynet import TinyNet, train_one_iter
from tinynet.exercises import ExerciseFailed, ExerciseNotAttempted, Verdict, basics, convnet
from tinynet.exercises import training as training_checks
from tinynet.experiments import gradient_descent
from tinynet.im2col import conv_output_size, im2col
from tinynet.naive import (
    conv_backward_naive,
    conv_forward_naive,
    maxpool_backward_naive,
    maxpool_forward_naive,
)
from tinynet.polynomial import fit_polynomial, polynomial_features, predict_polynomial
from tinynet.training import minibatches

# (checker, a correct answer, what it returns)
CHECKERS = [
    (basics.check_add_batch_axes, basics._add_batch_axes, "array"),
    (basics.check_channels_first, basics._channels_first, "array"),
    (basics.check_gradient_descent, gradient_descent, "array"),
    (basics.check_numerical_derivative, basics._central_difference, "float"),
    (basics.check_numerical_gradient_descent, basics._numerical_gradient_descent, "array"),
    (basics.check_fc_forward, basics._fc_forward, "array"),
    (basics.check_fc_backward, basics._fc_backward, ("dx", "dW", "db")),
    (basics.check_relu_forward, basics._relu_forward, "array"),
    (basics.check_relu_backward, basics._relu_backward, "array"),
    (basics.check_fc_relu_fc_backward, basics._fc_relu_fc_backward,
     ("dx", "dW1", "db1", "dW2", "db2")),
    (basics.check_softmax, basics._softmax, "array"),
    (basics.check_cross_entropy, basics._cross_entropy, "float"),
    (basics.check_cross_entropy_loss, basics._cross_entropy_loss, "float"),
    (basics.check_softmax_cross_entropy_backward, basics._cross_entropy_gradient, "array"),
    (basics.check_cross_entropy_gradient, basics._cross_entropy_gradient, "array"),
    (convnet.check_conv_output_size, conv_output_size, "int"),
    (convnet.check_conv_forward, conv_forward_naive, "array"),
    (convnet.check_im2col, im2col, "array"),
    (convnet.check_conv_backward, conv_backward_naive, ("dx", "dW", "db")),
    (convnet.check_pool_forward, maxpool_forward_naive, "array"),
    (convnet.check_pool_backward, maxpool_backward_naive, "array"),
    (convnet.check_avg_pool_forward, convnet._avg_pool_forward_reference, "array"),
    (convnet.check_avg_pool_backward, convnet._avg_pool_backward_reference, "array"),
    (convnet.check_fc_in_features, convnet._fc_in_features_reference, "int"),
    (convnet.check_count_parameters, convnet._count_parameters_reference, "int"),
    (training_checks.check_train_one_iter, train_one_iter,
     ("W_conv1", "b_conv1", "W_conv2", "b_conv2", "W_fc", "b_fc")),
    (training_checks.check_minibatches, minibatches, "list"),
    (training_checks.check_sgd_step, training_checks._sgd_step, "dict"),
    (training_checks.check_sgd_step_weights_only, training_checks._sgd_weights_only, "dict"),
    (training_checks.check_l2_penalty, training_checks._l2_penalty, "float"),
    (training_checks.check_polynomial_features, polynomial_features, "array"),
    (training_checks.check_fit_polynomial, fit_polynomial, "array"),
    (training_checks.check_predict_polynomial, predict_polynomial, "array"),
]


def shown(answer, checker):
    """The name a verdict shows: the answer's own, else the exercise's (for a lambda)."""
    own = getattr(answer, "__name__", "")
    return own if own.isidentifier() else checker.__name__[len("check_"):]


def _quiet(checker, answer, **options):
    with contextlib.redirect_stdout(io.StringIO()):
        return checker(answer, **options)


def _calls(checker, answer, hidden=False):
    """The arguments of every call the checker makes (a correct answer that records them)."""
    seen = []

    def spy(*args):
        seen.append(framework._copy(args))
        return answer(*args)

    assert _quiet(checker, spy, hidden=hidden)
    return seen


def _array_arguments(checker, answer):
    """(position, name) of each argument that holds arrays, from the first call."""
    names = list(inspect.signature(answer).parameters)
    first = _calls(checker, answer)[0]
    return [(k, names[k]) for k, value in enumerate(first)
            if isinstance(value, (np.ndarray, dict))]


# -- wrong answers made from a right one ------------------------------------

def write_into(position):
    """The right answer, then an in-place change of one argument."""
    def mutate(value):
        if isinstance(value, dict):
            mutate(next(iter(value.values())))
        else:
            value.flat[0] = value.flat[0] + 1

    def wrong(answer):
        def student(*args):
            result = answer(*framework._copy(args))
            mutate(args[position])
            return result
        return student
    return wrong


def returning(transform):
    def wrong(answer):
        def student(*args):
            return transform(answer(*args))
        return student
    return wrong


def with_nan(result):
    result = np.array(result, dtype=np.float64)
    result.flat[0] = np.nan
    return result


def with_inf(result):
    result = np.array(result, dtype=np.float64)
    result.flat[-1] = np.inf
    return result


def wrong_shape(result):
    result = np.asarray(result)
    return result.reshape(-1)[None] if result.ndim == 1 else result.reshape(-1)


def slightly_off(result):
    result = np.asarray(result, dtype=np.float64)
    return result * (1 + 1e-4) + 1e-4


def ragged(result):
    rows = [list(np.atleast_1d(row)) for row in np.atleast_2d(result)]
    rows[-1] = rows[-1] + [0.0]
    return rows if len(rows) > 1 else rows + [[1.0]]


def in_float32(answer):
    def student(*args):
        args = [a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64
                else a for a in args]
        return np.asarray(answer(*args)).astype(np.float32)
    return student


def raising(answer):
    def student(*args):
        raise KeyError("oops")
    return student


def looping(answer):
    def student(*args):
        while True:
            pass
    return student


COMMON = [
    ("None", returning(lambda r: None), r"is None: did you forget the `return`"),
    ("string", returning(lambda r: "done"), r"is the string 'done'"),
    ("generator", returning(lambda r: (v for v in [r])), r"is a generator"),
    ("unrelated exception", raising,
     r"your code raised KeyError: 'oops'\n    in student, line \d+: raise KeyError"),
]
ARRAY = [
    ("complex", returning(lambda r: np.asarray(r) + 0j), r"complex dtype"),
    ("object", returning(lambda r: np.asarray(r).astype(object)), r"dtype object"),
    ("NaN", returning(with_nan), r"contains NaN at index \(0(, 0)*,?\)"),
    ("inf", returning(with_inf), r"contains inf at index"),
    ("wrong shape", returning(wrong_shape), r"has shape .*; expected"),
    ("slightly off", returning(slightly_off), r"differs( at index \(.*\))?: expected .*, got"),
    ("ragged list", returning(ragged), r"ragged list"),
    ("a number", returning(lambda r: float(np.asarray(r).flat[0])), r"is a single number"),
    ("a tuple", returning(lambda r: (r,)), r"is a tuple of 1 item;"),
]
NUMBER = [
    ("complex", returning(lambda r: complex(r, 1)), r"complex"),
    ("NaN", returning(lambda r: float("nan")), r"is NaN; expected"),
    ("inf", returning(lambda r: float("inf")), r"is inf; expected"),
    ("array", returning(lambda r: np.array([r, r])), r"array of shape \(2,\)"),
    ("slightly off", returning(lambda r: r * (1 + 1e-4) + 1e-4), r"; expected .*difference"),
    ("list", returning(lambda r: [r]), r"is a list of 1 item;"),
]
INTEGER = [
    ("float", returning(lambda r: float(r)), r"is the float .*; expected an int"),
    ("off by one", returning(lambda r: r + 1), r"is \d+; expected \d+"),
    ("array", returning(lambda r: np.array([r, r])), r"array of shape \(2,\).*whole number"),
]


def element(k, transform):
    """Apply ``transform`` to result k of a tuple."""
    return returning(lambda r: tuple(transform(v) if i == k else v for i, v in enumerate(r)))


def tuple_mistakes(names):
    n = len(names)
    listing = ", ".join(names)
    mistakes = [
        ("list for tuple", returning(list), rf"is a list of {n}; return a tuple of {n} "
                                             rf"results instead: `return {listing}`"),
        ("one too few", returning(lambda r: r[:-1]), rf"has {n - 1} results; expected {n}"),
        ("one too many", returning(lambda r: (*r, r[0])), rf"has {n + 1} results"),
        ("first only", returning(lambda r: r[0]), rf"is one array of shape .*tuple of {n}"),
        ("complex", element(0, lambda v: v + 0j), rf"result 1 \({names[0]}\) has the complex"),
        ("object", element(0, lambda v: np.asarray(v).astype(object)),
         rf"result 1 \({names[0]}\) has dtype object"),
    ]
    for k, name in enumerate(names):
        mistakes += [
            (f"NaN in {name}", element(k, with_nan), rf"result {k + 1} \({name}\) contains NaN"),
            (f"{name} off", element(k, slightly_off), rf"result {k + 1} \({name}\) differs"),
            (f"{name} reshaped", element(k, wrong_shape), rf"result {k + 1} \({name}\) has shape"),
        ]
    return mistakes


LIST = [
    ("one batch only", returning(lambda r: [r[0]]), r"has 1 item; expected \d+"),
    ("float indices", returning(lambda r: [b.astype(float) for b in r]),
     r"your result\[0\] holds float64 numbers; expected integers"),
    ("ragged batch", returning(lambda r: [list(b) + [[0]] for b in r]), r"your result\[0\]"),
]
DICT = [
    ("tuple", returning(lambda r: tuple(r.values())), r"is a tuple of 6 items; expected a dict"),
    ("missing key", returning(lambda r: {k: v for k, v in r.items() if k != "b_fc"}),
     r"without the keys \['b_fc'\]"),
    ("NaN", returning(lambda r: {**r, "W_fc": with_nan(r["W_fc"])}),
     r"your result\['W_fc'\] contains NaN at index \(0, 0\)"),
    ("bias off", returning(lambda r: {**r, "b_fc": slightly_off(r["b_fc"])}),
     r"your result\['b_fc'\] differs at index \(0,\)"),
    ("complex", returning(lambda r: {**r, "W_conv1": r["W_conv1"] + 0j}),
     r"your result\['W_conv1'\] has the complex"),
]


def _mistakes(checker, answer, returns):
    mistakes = list(COMMON)
    for position, name in _array_arguments(checker, answer):
        mistakes.append((f"in-place {name}", write_into(position),
                         rf"changed its argument `{name}(\['\w+'\])?` in place \(at index"))
    if isinstance(returns, tuple):
        mistakes += tuple_mistakes(returns)
    else:
        mistakes += {"array": ARRAY, "float": NUMBER, "int": INTEGER, "list": LIST,
                     "dict": DICT}[returns]
    return mistakes


WRONG = [(checker, answer, label, make, pattern)
         for checker, answer, returns in CHECKERS
         for label, make, pattern in _mistakes(checker, answer, returns)]


@pytest.mark.parametrize("checker, answer, returns", CHECKERS,
                         ids=[c.__name__ for c, _, _ in CHECKERS])
def test_a_correct_answer_passes_the_visible_and_the_hidden_cases(checker, answer, returns,
                                                                   capsys):
    assert checker(answer)
    assert checker(answer, hidden=True)
    lines = capsys.readouterr().out.splitlines()
    name = shown(answer, checker)
    assert len(lines) == 2 and all(line.startswith(f"{name}: PASS (") for line in lines)


@pytest.mark.parametrize("checker, answer, label, make, pattern", WRONG,
                         ids=[f"{c.__name__}-{label}" for c, _, label, _, _ in WRONG])
def test_a_typical_mistake_fails_with_a_message_that_names_it(checker, answer, label, make,
                                                              pattern):
    student = make(answer)
    with np.errstate(all="ignore"), pytest.raises(ExerciseFailed, match=pattern) as caught:
        _quiet(checker, student)
    message = str(caught.value)
    assert message.startswith(f"{shown(student, checker)}: FAIL on case 1 of ")
    # the hint explains the computation: shown for wrong values, shapes, counts
    # and errors, not where the message says it all (a type, an in-place write)
    self_explained = re.search(r"is None|string|generator|is a list of|is a tuple of|complex|"
                               r"dtype object|ragged|in place|the float|whole number|"
                               r"is one array|holds float|expected a dict|without the keys",
                               message.splitlines()[1])
    assert ("Hint: " in message) != bool(self_explained), message
    assert "tinynet/exercises" not in message  # never a frame of the checker itself
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("checker, answer, returns", CHECKERS,
                         ids=[c.__name__ for c, _, _ in CHECKERS])
def test_an_endless_loop_is_stopped_after_the_time_limit(checker, answer, returns,
                                                         monkeypatch):
    monkeypatch.setattr(framework, "TIME_LIMIT", 0.2)
    previous = signal.getsignal(signal.SIGALRM)
    start = time.perf_counter()
    with pytest.raises(ExerciseFailed, match=r"did not return within 0.2 s and was stopped"):
        _quiet(checker, looping(answer))
    assert time.perf_counter() - start < 2
    assert signal.getsignal(signal.SIGALRM) is previous
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.parametrize("checker, answer, returns", [c for c in CHECKERS if c[2] == "array"],
                         ids=[c.__name__ for c, _, r in CHECKERS if r == "array"])
def test_a_float32_answer_to_float64_inputs_fails_with_the_dtype_message(checker, answer,
                                                                         returns):
    """float32 results are never right where the reference computes in float64."""
    with np.errstate(all="ignore"), pytest.raises(ExerciseFailed) as caught:
        _quiet(checker, in_float32(answer))
    message = str(caught.value).splitlines()
    assert message[1] == ("  your result is float32, but this case computes in float64: float32 "
                          "keeps only about 7 significant digits. Keep the inputs' precision: "
                          "do not convert with .astype(np.float32) or create arrays with "
                          "dtype=np.float32."), message
    assert not any(line.startswith("  Hint:") for line in message)


@pytest.mark.parametrize("checker, answer, returns", CHECKERS,
                         ids=[c.__name__ for c, _, _ in CHECKERS])
def test_the_hidden_cases_differ_from_the_visible_ones(checker, answer, returns):
    def key(args):
        return repr([a.tolist() if isinstance(a, np.ndarray) else
                     {k: v.tolist() for k, v in a.items()} if isinstance(a, dict) else
                     a.bit_generator.state if isinstance(a, np.random.Generator) else a
                     for a in args])

    visible = {key(args) for args in _calls(checker, answer)}
    hidden = [key(args) for args in _calls(checker, answer, hidden=True)]
    assert len(hidden) >= 3 and not visible.intersection(hidden)


# -- TinyNet, checked through a class -----------------------------------------

class ChangesItsWeights(TinyNet):
    def __init__(self, W_conv1, *rest):
        super().__init__(W_conv1, *rest)
        W_conv1 -= 0.01  # "training" the caller's array


class ChangesX(TinyNet):
    def forward(self, x, t):
        result = super().forward(x, t)
        x[0] = 0
        return result


def _net_returning(forward=None, backward=None):
    class Net(TinyNet):
        def forward(self, x, t):
            result = super().forward(x, t)
            return forward(result) if forward else result

        def backward(self):
            result = super().backward()
            return backward(result) if backward else result
    return Net


class Loops(TinyNet):
    def backward(self):
        while True:
            pass


NETS = [
    ("in-place W_conv1", ChangesItsWeights, r"changed its argument `W_conv1`"),
    ("in-place x", ChangesX, r"changed its argument `x`"),
    ("backward list", _net_returning(backward=list),
     r"the result of backward\(\) is a list of 6; return a tuple of 6 results instead: "
     r"`return dW_conv1, db_conv1, dW_conv2, db_conv2, dW_fc, db_fc`"),
    ("backward None", _net_returning(backward=lambda r: None),
     r"the result of backward\(\) is None: did you forget the `return`"),
    ("backward generator", _net_returning(backward=lambda r: (g for g in r)),
     r"the result of backward\(\) is a generator"),
    ("five gradients", _net_returning(backward=lambda r: r[:5]),
     r"the result of backward\(\) has 5 results; expected 6"),
    ("complex db_fc", _net_returning(backward=lambda r: (*r[:5], r[5] + 0j)),
     r"backward\(\) result 6 \(db_fc\) has the complex dtype"),
    ("NaN in dW_conv2", _net_returning(backward=lambda r: (*r[:2], with_nan(r[2]), *r[3:])),
     r"backward\(\) result 3 \(dW_conv2\) contains NaN at index \(0, 0, 0, 0\)"),
    ("forward list", _net_returning(forward=list),
     r"the result of forward\(x, t\) is a list of 2; return a tuple"),
    ("loss as array", _net_returning(forward=lambda r: (r[0], np.array([r[1]]))),
     r"forward\(x, t\) result 2 \(loss\) is an array of shape \(1,\); expected a single"),
    ("scores off", _net_returning(forward=lambda r: (slightly_off(r[0]), r[1])),
     r"forward\(x, t\) result 1 \(scores\) differs at index \(0, 0\)"),
]


@pytest.mark.parametrize("label, net, pattern", NETS, ids=[label for label, _, _ in NETS])
def test_tinynet_mistakes_fail_with_a_message_that_names_them(label, net, pattern):
    with pytest.raises(ExerciseFailed, match=pattern):
        _quiet(convnet.check_tinynet_backward, net)


def test_tinynet_passes_and_an_endless_backward_is_stopped(monkeypatch, capsys):
    assert convnet.check_tinynet_backward(TinyNet)
    assert convnet.check_tinynet_backward(TinyNet, hidden=True)
    monkeypatch.setattr(framework, "TIME_LIMIT", 0.2)
    with pytest.raises(ExerciseFailed, match="did not return within"):
        convnet.check_tinynet_backward(Loops)


# -- the framework's own behaviour --------------------------------------------

def not_attempted(*args):
    raise NotImplementedError


@pytest.mark.parametrize("checker, answer, returns", CHECKERS,
                         ids=[c.__name__ for c, _, _ in CHECKERS])
def test_the_skeleton_prints_not_attempted_and_returns_a_false_verdict(
        checker, answer, returns, capsys, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    verdict = checker(not_attempted)
    assert isinstance(verdict, Verdict) and not verdict and not verdict.attempted
    assert capsys.readouterr().out.strip().endswith("run the cell again.")


@pytest.mark.parametrize("value", ["autograde", "validate"])
def test_under_nbgrader_the_skeleton_raises_not_attempted(value, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", value)
    with pytest.raises(ExerciseNotAttempted, match="^not_attempted: not attempted yet"):
        basics.check_fc_forward(not_attempted)

    class Skeleton(TinyNet):
        def backward(self):
            raise NotImplementedError

    with pytest.raises(ExerciseNotAttempted, match="^Skeleton: not attempted"):
        convnet.check_tinynet_backward(Skeleton)


def test_both_exceptions_are_assertion_errors_that_render_as_their_message_only():
    assert issubclass(ExerciseFailed, AssertionError)
    assert issubclass(ExerciseNotAttempted, AssertionError)
    with pytest.raises(ExerciseFailed) as caught:
        _quiet(basics.check_relu_backward, lambda dout, x: np.maximum(dout, 0, out=dout))
    lines = caught.value._render_traceback_()
    assert 2 <= len(lines) <= 6
    assert lines[0].startswith("ExerciseFailed: relu_backward: FAIL on case 1 of 4")
    assert "changed its argument `dout`" in "\n".join(lines)
    assert "Traceback" not in "\n".join(lines)


def test_a_student_error_shows_the_student_line_not_the_checker():
    def fc_forward(x, W, b):
        return x @ W.T + b  # the wrong transpose

    with pytest.raises(ExerciseFailed) as caught:
        _quiet(basics.check_fc_forward, fc_forward)
    message = str(caught.value)
    assert "your code raised ValueError: matmul" in message
    assert "in fc_forward, line" in message and "return x @ W.T + b" in message
    assert "check_function" not in message and "exercises" not in message


def test_ctrl_c_still_interrupts_and_the_alarm_is_restored():
    previous = signal.getsignal(signal.SIGALRM)

    def interrupted(x):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        basics.check_relu_forward(interrupted)
    assert signal.getsignal(signal.SIGALRM) is previous
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_outer_timer_survives_a_check(capsys):
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *args: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        assert basics.check_relu_forward(basics._relu_forward)
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 0.3
        time.sleep(0.4)
        assert fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_outside_the_main_thread_there_is_no_time_limit(monkeypatch):
    monkeypatch.setattr(framework, "TIME_LIMIT", 0.05)

    def slow(x):
        time.sleep(0.1)
        return np.maximum(x, 0)

    results = []
    thread = threading.Thread(target=lambda: results.append(_quiet(basics.check_relu_forward,
                                                                   slow)))
    thread.start()
    thread.join()
    assert results and results[0]


def test_an_except_exception_in_the_student_code_cannot_swallow_the_time_limit(monkeypatch):
    monkeypatch.setattr(framework, "TIME_LIMIT", 0.2)

    def stubborn(x):
        while True:
            try:
                time.sleep(1)
            except Exception:
                pass

    with pytest.raises(ExerciseFailed, match="did not return within"):
        basics.check_relu_forward(stubborn)


def test_passing_a_call_instead_of_the_function_fails_with_a_message():
    with pytest.raises(ExerciseFailed, match="pass your function itself.*not an array"):
        basics.check_relu_forward(np.zeros(3))


def test_a_failing_case_shows_its_parameters_and_the_first_differing_entry():
    def zero_padded(x, pool_h, pool_w, stride, pad):
        return maxpool_forward_naive(np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))),
                                     pool_h, pool_w, stride, 0)

    with pytest.raises(ExerciseFailed) as caught:
        _quiet(convnet.check_pool_forward, zero_padded)
    first, setting, second = str(caught.value).splitlines()[:3]
    assert first == ("zero_padded: FAIL on case 9 of 12 (x: (2, 3, 5, 5), pool_h=2, "
                     "pool_w=2, stride=2, pad=1)")
    assert setting == ("  your zero_padded is right with pad=0 but not with pad=1: look at each "
                       "place where pad should enter.")
    assert second.startswith("  your result differs at index (0, 0, 0, 0): expected -")
    assert ", got 0.0 (" in second


def test_labels_and_notes_are_shown_with_the_case():
    def without_mean(y, t):
        return float(-np.log(y[np.arange(len(y)), t.argmax(1) if t.ndim == 2 else t]).sum())

    with pytest.raises(ExerciseFailed, match=r"t=\[\d, \d, \d\]; index labels\)"):
        _quiet(basics.check_cross_entropy, without_mean)


def test_float32_inputs_of_the_right_values_pass():
    """A near miss that does not change the values beyond tolerance is not an error."""
    assert _quiet(basics.check_relu_forward,
                  lambda x: np.maximum(x, 0).astype(np.float32).astype(x.dtype))


ODD_RESULTS = [object(), {1: 2}, {"a"}, lambda: 1, Ellipsis, ("a", "b"),
               [np.zeros(2), np.zeros(3)],
               np.array(None), np.zeros(2, dtype=[("a", float)]), b"xy", 10 ** 30, True,
               np.datetime64("2020"), np.array(["a"]), [[1, 2], [3]], 1j, [], (),
               np.zeros((0,)), iter([1]), range(3), [None], np.array([[np.nan]]),
               float("nan"), "3"]


@pytest.mark.parametrize("checker, answer, returns", CHECKERS,
                         ids=[c.__name__ for c, _, _ in CHECKERS])
def test_odd_results_never_pass_and_never_crash_the_checker(checker, answer, returns):
    for odd in ODD_RESULTS:
        with pytest.raises(ExerciseFailed, match=r"FAIL on case 1 of \d+"):
            _quiet(checker, lambda *args, odd=odd: odd)


# -- the chapter 6 checkers (notebooks 09 to 13) -----------------------------
# Their own test modules try the mistakes of each lesson; here every one of
# them meets the mistakes any exercise can make, and an endless loop.

from tinynet.exercises import initialization as init_checks  # noqa: E402
from tinynet.exercises import normalization, optimizers, regularization  # noqa: E402
from tinynet.exercises import search as search_checks  # noqa: E402
from tinynet.initialization import init_std, init_weights  # noqa: E402
from tinynet.search import log_uniform  # noqa: E402

CHAPTER6 = [
    (optimizers.check_momentum_step, optimizers._momentum_reference),
    (optimizers.check_adagrad_step, optimizers._adagrad_reference),
    (optimizers.check_adam_step, optimizers._adam_reference),
    (normalization.check_batchnorm_forward, normalization.batchnorm_forward_reference),
    (normalization.check_batchnorm_backward, normalization.batchnorm_backward_reference),
    (init_checks.check_init_std, init_std),
    (init_checks.check_init_weights, init_weights),
    (regularization.check_dropout_forward, regularization.dropout_forward_reference),
    (regularization.check_dropout_train_forward, regularization.dropout_train_forward_reference),
    (regularization.check_dropout_backward, regularization.dropout_backward_reference),
    (search_checks.check_log_uniform, log_uniform),
    (search_checks.check_random_search, search_checks._search_reference),
]
CHAPTER6_IDS = [c.__name__ for c, _ in CHAPTER6]


@pytest.mark.parametrize("checker, answer", CHAPTER6, ids=CHAPTER6_IDS)
def test_chapter6_a_correct_answer_passes_visible_and_hidden(checker, answer, capsys):
    assert checker(answer)
    assert checker(answer, hidden=True)
    lines = capsys.readouterr().out.splitlines()
    name = shown(answer, checker)
    assert len(lines) == 2 and all(line.startswith(f"{name}: PASS (") for line in lines)


@pytest.mark.parametrize("checker, answer", CHAPTER6, ids=CHAPTER6_IDS)
@pytest.mark.parametrize("label, make, pattern", COMMON, ids=[m[0] for m in COMMON])
def test_chapter6_any_exercise_mistake_fails_with_its_message(checker, answer, label, make,
                                                               pattern):
    student = make(answer)
    with np.errstate(all="ignore"), pytest.raises(ExerciseFailed) as caught:
        _quiet(checker, student)
    message = str(caught.value)
    assert message.startswith(f"{shown(student, checker)}: FAIL on case 1 of "), message
    assert "tinynet/exercises" not in message  # never a frame of the checker itself
    # a type mistake is named as such; the checker may add its own wording
    if label != "unrelated exception":
        assert re.search(pattern.split(":")[0], message), message
    else:
        assert re.search(r"your code raised KeyError: 'oops'", message), message


@pytest.mark.parametrize("checker, answer", CHAPTER6, ids=CHAPTER6_IDS)
def test_chapter6_an_endless_loop_is_stopped(checker, answer, monkeypatch):
    monkeypatch.setattr(framework, "TIME_LIMIT", 0.2)
    start = time.perf_counter()
    with pytest.raises(ExerciseFailed, match=r"did not return within 0.2 s and was stopped"):
        _quiet(checker, looping(answer))
    assert time.perf_counter() - start < 2


# -- known mistakes named by the runner (mistakes=) ----------------------------

def _double(x, scale):
    return scale * x


def _doubling_mistakes(x, scale):
    return [(x, "you forgot the scale"),
            (scale * x, "never said: this is the right result"),
            (scale * x + 1, "you added one")]


def _check_double(student, cases):
    with contextlib.redirect_stdout(io.StringIO()):
        return framework.check_function("double", student, _double, cases, "scale * x",
                                        mistakes=_doubling_mistakes)


@pytest.mark.parametrize("student, pattern", [
    (lambda x, scale: x, r"  you forgot the scale\n  Hint: "),
    (lambda x, scale: scale * x + 1, r"  you added one\n"),
    (lambda x, scale: scale * x + 2, r"  your result differs at index \(0,\)"),
    (lambda x, scale: (scale * x, x), r"is a tuple of 2 items"),
])
def test_the_runner_names_a_known_mistake_that_shows_on_the_case(student, pattern):
    cases = [framework.Case(x=np.arange(1.0, 4.0), scale=2.0)]
    with pytest.raises(ExerciseFailed, match=pattern):
        _check_double(student, cases)


def test_a_mistake_that_equals_the_right_result_on_a_case_is_not_named():
    # with scale = 1, "forgot the scale" is the right answer: the case cannot show it
    cases = [framework.Case(x=np.arange(1.0, 4.0), scale=1.0),
             framework.Case(x=np.arange(1.0, 4.0), scale=3.0)]
    assert _check_double(lambda x, scale: scale * x, cases)
    with pytest.raises(ExerciseFailed, match=r"FAIL on case 2 of 2 .*\n  you forgot the scale"):
        _check_double(lambda x, scale: x, cases)


def test_a_mistake_may_leave_parts_free_with_none():
    def pair(x, scale):
        return scale * x, x.sum()

    def mistakes(x, scale):
        return [((x, None), "first part unscaled")]  # whatever the second part holds

    cases = [framework.Case(x=np.arange(1.0, 4.0), scale=2.0)]
    with pytest.raises(ExerciseFailed, match="first part unscaled"):
        _quiet_check("pair", lambda x, scale: (x, 0.0), pair, cases, mistakes=mistakes)


def _quiet_check(name, student, reference, cases, **options):
    with contextlib.redirect_stdout(io.StringIO()):
        return framework.check_function(name, student, reference, cases, "the hint", **options)


# -- the name in the verdict ------------------------------------------------------

def my_relu(x):
    return np.maximum(x, 0)


class Doubler:
    def __call__(self, x):
        return 2 * x


@pytest.mark.parametrize("student, shown", [
    (my_relu, "my_relu"),
    (lambda x: np.maximum(x, 0), "relu_forward"),      # a lambda: the exercise's name
    (np.abs, "absolute"),                               # a numpy ufunc has a name
], ids=["function", "lambda", "ufunc"])
def test_the_verdict_uses_the_name_the_student_wrote(student, shown, capsys):
    try:
        basics.check_relu_forward(student)
    except ExerciseFailed as failure:
        assert str(failure).startswith(f"{shown}: FAIL on case 1 of ")
    else:
        assert capsys.readouterr().out.startswith(f"{shown}: PASS (")


def test_an_object_without_a_name_gets_the_exercises_name():
    with pytest.raises(ExerciseFailed, match=r"^relu_forward: FAIL on case 1 of 4"):
        _quiet(basics.check_relu_forward, Doubler())


def test_a_class_is_named_by_its_class_name(capsys):
    class MyTinyNet(TinyNet):
        pass

    assert convnet.check_tinynet_backward(MyTinyNet)
    assert capsys.readouterr().out == "MyTinyNet: PASS (4 cases)\n"


# -- dtypes ---------------------------------------------------------------------------

def _dtype_cases():
    rng = np.random.default_rng(5)
    return [framework.Case(x=rng.standard_normal(4)),
            framework.float32_case(framework.Case(x=rng.standard_normal(3)))]


@pytest.mark.parametrize("student, case, words", [
    (lambda x: x.astype(np.float32) * 2, 1,
     r"your result is float32, but this case computes in float64: float32 keeps only about "
     r"7 significant digits"),
    (lambda x: np.zeros(x.shape) + 2 * x, 2,
     r"your result is float64, but this case's inputs are float32 and the result must stay "
     r"float32"),
    (lambda x: (2 * x).astype(np.float16), 1,  # its rounding shows beyond float32's: said too
     r"your result is float16, but this case computes in float64: float16 keeps only about "
     r"3 significant digits.*Its values differ too"),
], ids=["float32 out of float64", "float64 out of float32", "float16"])
def test_a_float_result_in_another_dtype_fails_even_with_the_right_values(student, case, words):
    with pytest.raises(ExerciseFailed, match=rf"(?s)FAIL on case {case} of 2 .*\n  {words}") as c:
        _quiet_check("double", student, lambda x: 2 * x, _dtype_cases())
    assert "Hint:" not in str(c.value)
    assert ("differ too" in str(c.value)) == ("float16" in words)


def test_a_dtype_failure_says_when_the_values_differ_too():
    with pytest.raises(ExerciseFailed, match=r"is float32, .*Its values differ too at index "
                                             r"\(0,\): expected"):
        _quiet_check("double", lambda x: (3 * x).astype(np.float32), lambda x: 2 * x,
                     _dtype_cases())


def test_right_float32_answers_pass_at_float32_rounding():
    def summed_the_other_way(x):
        return (x[::-1] * 2)[::-1] + np.float32(1e-7) * x  # off in the 7th digit only

    assert _quiet_check("double", summed_the_other_way, lambda x: 2 * x, _dtype_cases()[1:])


def test_a_numpy_scalar_in_another_dtype_fails_but_a_python_float_passes():
    cases = [framework.Case(x=np.arange(3.0))]
    with pytest.raises(ExerciseFailed, match=r"your result is float32, but this case computes "
                                             r"in float64"):
        _quiet_check("total", lambda x: np.float32(x.sum()), lambda x: float(x.sum()), cases)
    assert _quiet_check("total", lambda x: float(x.sum()), lambda x: x.sum(), cases)
    assert _quiet_check("total", lambda x: x.sum(), lambda x: float(x.sum()), cases)


def test_integer_results_are_compared_as_before():
    cases = [framework.Case(n=np.arange(4))]
    assert _quiet_check("ints", lambda n: n.astype(np.int32) * 2, lambda n: 2 * n, cases)
    with pytest.raises(ExerciseFailed, match="holds float64 numbers; expected integers"):
        _quiet_check("ints", lambda n: n * 2.0, lambda n: 2 * n, cases)


# -- settings ----------------------------------------------------------------------------

def _shift(x, offset, scale):
    return scale * x + offset


def _setting_cases():
    x = np.arange(1.0, 5.0)
    return [framework.Case(x=x, offset=0.0, scale=1.0), framework.Case(x=x, offset=2.0, scale=1.0),
            framework.Case(x=x, offset=0.0, scale=3.0), framework.Case(x=x, offset=2.0, scale=3.0)]


@pytest.mark.parametrize("student, line", [
    (lambda x, offset, scale: scale * x,
     "  your shift is right with offset=0.0 but not with offset=2.0: look at each place where "
     "offset should enter."),
    (lambda x, offset, scale: x + offset,
     "  your shift is right with scale=1.0 but not with scale=3.0: look at each place where "
     "scale should enter."),
    (lambda x, offset, scale: x,
     None),  # wrong as soon as either is on: neither is named (case 4 is never reached)
], ids=["offset ignored", "scale ignored", "both ignored"])
def test_a_setting_is_named_when_the_answer_is_right_without_it(student, line):
    with pytest.raises(ExerciseFailed) as caught:
        _quiet_check("shift", student, _shift, _setting_cases(),
                     settings={"offset": 0.0, "scale": 1.0})
    lines = str(caught.value).splitlines()
    if line is None:
        assert "is right with" not in str(caught.value)
    else:
        assert lines[1] == line, lines


def test_two_settings_are_named_together():
    x = np.arange(1.0, 5.0)
    cases = [framework.Case(x=x, offset=0.0, scale=1.0),
             framework.Case(x=x, offset=2.0, scale=3.0)]

    def student(x, offset, scale):
        return x

    with pytest.raises(ExerciseFailed, match=r"  your student is right with offset=0\.0 but not "
                                             r"with offset=2\.0, and right with scale=1\.0 but "
                                             r"not with scale=3\.0: look at each place where "
                                             r"offset and scale should enter\."):
        _quiet_check("shift", student, _shift, cases, settings={"offset": 0.0, "scale": 1.0})


def test_a_float32_number_is_right_where_the_case_is_float32():
    """The reference may give a Python float; from float32 inputs a float32 number is right."""
    cases = [framework.float32_case(framework.Case(x=np.arange(3.0)))]
    assert _quiet_check("total", lambda x: x.sum(), lambda x: float(x.sum()), cases)
    assert _quiet_check("total", lambda x: float(x.sum()), lambda x: float(x.sum()), cases)


def test_a_float32_loss_from_float32_inputs_passes_the_tinynet_check(capsys):
    class Float32Loss(TinyNet):
        def forward(self, x, t):
            scores, loss = super().forward(x, t)
            return scores, np.asarray(loss, dtype=scores.dtype)[()]  # np.float32 in float32

    assert convnet.check_tinynet_backward(Float32Loss)
    assert capsys.readouterr().out == "Float32Loss: PASS (4 cases)\n"
