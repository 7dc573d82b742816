"""Checkers for the exercises of notebook 09 (optimizers).

=================================  ===========================================
notebook                           checkers
=================================  ===========================================
``09_optimizers``                  :func:`check_momentum_step`,
                                   :func:`check_adagrad_step`,
                                   :func:`check_adam_step`
=================================  ===========================================

Each exercise is one optimizer step written as a pure function: it takes
the parameters, their gradients, the optimizer's state and the
hyperparameters, and returns the new parameters and the new state, leaving
every argument unchanged::

    new_params, new_state = momentum_step(params, grads, state, learning_rate, momentum)
    new_params, new_state = adagrad_step(params, grads, state, learning_rate, eps)
    new_params, new_state = adam_step(params, grads, state, learning_rate, beta1, beta2, eps)

``params`` and ``grads`` are dicts of arrays by parameter name. The state:

* Momentum: ``{"v": {name: velocity}}``, zeros before the first step;
* AdaGrad: ``{"h": {name: sum of squared gradients}}``, zeros before the first step;
* Adam: ``{"t": steps taken so far, "m": {name: ...}, "v": {name: ...}}``,
  ``t = 0`` and zeros before the first step.

The references are :class:`tinynet.optim.Momentum`, :class:`tinynet.optim.AdaGrad`
and :class:`tinynet.optim.Adam` (no weight decay), run in the dtype of the
case (each checker has a float32 case). The usual wrong steps are named
(:func:`tinynet.exercises.check_function`'s ``mistakes``): gradient ascent,
parameters returned unchanged, the learning rate applied twice, and each
optimizer's own slips.
"""

import numpy as np

from ..optim import AdaGrad, Adam, Momentum
from . import Case, case_seed, check_function

__all__ = ["check_momentum_step", "check_adagrad_step", "check_adam_step"]


def _generator(seed, hidden=False):
    """The cases' random numbers: another stream for the hidden cases."""
    return np.random.default_rng(case_seed(seed + 1000 * hidden, hidden))


def _arrays(rng, shapes, scale=1.0, dtype=np.float64):
    return {name: (scale * rng.standard_normal(shape)).astype(dtype)
            for name, shape in shapes.items()}


def _zeros(shapes, dtype=np.float64):
    return {name: np.zeros(shape, dtype=dtype) for name, shape in shapes.items()}


def _dtype(k, settings):
    """The last case of each table is float32: the step must keep the dtype."""
    return np.float32 if k == len(settings) - 1 else np.float64


def _note(text, dtype):
    return text + (", float32" if dtype is np.float32 else "")


# Parameter names and shapes of the cases: an MLP's, TinyNet's, and single numbers.
_MLP = {"W_1": (4, 3), "b_1": (3,), "W_2": (3, 2), "b_2": (2,)}
_TINYNET = {"W_conv1": (2, 1, 3, 3), "b_conv1": (2,), "W_fc": (8, 3), "b_fc": (3,)}
_POINT = {"x": (), "y": ()}


def _copies(arrays):
    """New arrays of the same values and dtype (the optimizers update in place)."""
    return {name: np.array(a, copy=True) for name, a in arrays.items()}


def _step_mistakes(params, step, learning_rate, first_step_note=""):
    """The wrong steps every optimizer exercise shares, given the right ``step`` per name.

    ``step[name]`` is what the right update subtracts after the learning rate:
    ``p_new = p - learning_rate * step[name]``. The state is left free (None), so
    these come after each optimizer's own mistakes, which also match the state.
    """
    lr = learning_rate
    return [
        ((dict(params), None),
         "your new parameters are the old ones, unchanged" + first_step_note + ". Subtract "
         "the step from every parameter and return the new arrays (p = p - ..., collected "
         "in a new dict)."),
        (({k: p + lr * step[k] for k, p in params.items()}, None),
         "your parameters moved uphill: p + learning_rate * ... is gradient ascent. "
         "Subtract the step: p - learning_rate * (...)."),
        (({k: p - lr * lr * step[k] for k, p in params.items()}, None),
         "your step is learning_rate times too small: the learning rate is applied twice. "
         "Multiply by learning_rate once."),
    ]


# ---------------------------------------------------------------------------
# Momentum
# ---------------------------------------------------------------------------

def _momentum_reference(params, grads, state, learning_rate, momentum):
    optimizer = Momentum(learning_rate=learning_rate, momentum=momentum)
    optimizer.state = {name: {"velocity": np.array(v, copy=True)}
                       for name, v in state["v"].items()}
    new = _copies(params)
    optimizer.step(new, grads)
    return new, {"v": {name: optimizer.state[name]["velocity"] for name in params}}


def _momentum_mistakes(params, grads, state, learning_rate, momentum):
    """Typical wrong answers, with what to say when a student's matches one."""
    v_old = state["v"]
    v_new = {k: momentum * v_old[k] + g for k, g in grads.items()}
    book_v = {k: momentum * v_old[k] - learning_rate * g for k, g in grads.items()}
    no_memory = {k: g.copy() for k, g in grads.items()}
    scaled = {k: momentum * v_old[k] + (1 - momentum) * g for k, g in grads.items()}
    no_gradient = {k: momentum * v_old[k] for k in params}
    first = all(not np.any(v) for v in v_old.values())
    return [
        (({k: params[k] - learning_rate * v_old[k] for k in params}, {"v": v_new}),
         "your parameters moved with the OLD velocity" + (
             " (on this first step the old velocity is 0, so they did not move at all)"
             if first else "") + "; update the velocity first, v = momentum * v + grad, "
         "then step with the new one: p - learning_rate * v."),
        (({k: params[k] + book_v[k] for k in params}, {"v": book_v}),
         "you used the book's velocity v = momentum * v - learning_rate * grad, p = p + v. "
         "It gives the same parameters, but this exercise (like PyTorch) keeps the learning "
         "rate out of the velocity: v = momentum * v + grad, p = p - learning_rate * v."),
        (({k: params[k] - learning_rate * g for k, g in grads.items()}, {"v": no_memory}),
         "your step forgets the previous velocity (plain SGD): v = momentum * v + grad "
         "keeps a share of every earlier step."),
        (({k: params[k] - learning_rate * scaled[k] for k in params}, {"v": scaled}),
         "you damped the gradient with (1 - momentum); heavy-ball momentum adds the whole "
         "gradient: v = momentum * v + grad."),
        (({k: params[k] - learning_rate * no_gradient[k] for k in params},
          {"v": no_gradient}),
         "your velocity leaves out the gradient: v = momentum * v + grad, the gradient "
         "added at every step."),
        ((None, {"v": v_old}),
         "your new state holds the old velocities: return the updated ones, "
         "{'v': new_velocities}."),
    ] + _step_mistakes(params, v_new, learning_rate,
                       " (on this first step, v = 0, that is also what a velocity without the "
                       "gradient gives: v = momentum * v + grad needs grad)" if first else "")


def check_momentum_step(student, *, hidden=False):
    """``student(params, grads, state, learning_rate, momentum)`` -> ``(new_params, new_state)``.

    ``state = {"v": {name: velocity}}``. For every name::

        v_new = momentum * v + grads[name]
        p_new = p - learning_rate * v_new

    returned as ``(new_params, {"v": new_velocities})``; no argument may change.
    """
    rng = _generator(300, hidden)
    if hidden:
        settings = [(_TINYNET, 0.05, 0.9, True), (_POINT, 0.1, 0.5, True),
                    (_MLP, 0.3, 0.0, True), (_TINYNET, 0.01, 0.99, True),
                    (_MLP, 1.0, 0.8, False), (_POINT, 0.2, 0.95, False),
                    (_TINYNET, 0.1, 0.9, True)]
    else:
        settings = [(_MLP, 0.1, 0.9, False), (_MLP, 0.05, 0.9, True), (_POINT, 0.1, 0.5, True),
                    (_TINYNET, 0.05, 0.9, True)]
    cases = []
    for k, (shapes, learning_rate, momentum, started) in enumerate(settings):
        dtype = _dtype(k, settings)
        params, grads = _arrays(rng, shapes, dtype=dtype), _arrays(rng, shapes, dtype=dtype)
        velocity = (_arrays(rng, shapes, 0.5, dtype) if started else _zeros(shapes, dtype))
        cases.append(Case(params=params, grads=grads, state={"v": velocity},
                          learning_rate=learning_rate, momentum=momentum,
                          note=_note("mid-training velocity" if started
                                     else "first step, v = 0", dtype)))
    hint = ("For every name: v_new = momentum * state['v'][name] + grads[name], then "
            "p_new = params[name] - learning_rate * v_new. Return (new_params, "
            "{'v': new_velocities}), two new dicts of new arrays.")
    return check_function("momentum_step", student, _momentum_reference, cases, hint,
                          results=("new_params", "new_state"), hidden=hidden,
                          mistakes=_momentum_mistakes)


# ---------------------------------------------------------------------------
# AdaGrad
# ---------------------------------------------------------------------------

def _adagrad_reference(params, grads, state, learning_rate, eps):
    optimizer = AdaGrad(learning_rate=learning_rate, eps=eps)
    optimizer.state = {name: {"sum_of_squares": np.array(h, copy=True)}
                       for name, h in state["h"].items()}
    new = _copies(params)
    optimizer.step(new, grads)
    return new, {"h": {name: optimizer.state[name]["sum_of_squares"] for name in params}}


def _adagrad_mistakes(params, grads, state, learning_rate, eps):
    """Typical wrong AdaGrad steps, with what to say when a student's matches one."""
    h_old = state["h"]
    h = {k: h_old[k] + g * g for k, g in grads.items()}
    lr = learning_rate

    def stepped(rule, sums=h):
        return {k: params[k] - lr * rule(grads[k], sums[k], h_old[k]) for k in params}

    with np.errstate(all="ignore"):  # the wrong formulas may take roots of negatives
        replaced = {k: g * g for k, g in grads.items()}
        unsquared = {k: h_old[k] + g for k, g in grads.items()}
        return [
            ((stepped(lambda g, hk, ho: g / np.sqrt(hk + eps)), {"h": h}),
             "you put eps inside the square root; this AdaGrad (like PyTorch's) adds it "
             "outside: p - learning_rate * g / (np.sqrt(h) + eps)."),
            ((stepped(lambda g, hk, ho: g / (np.sqrt(hk) + eps), replaced), {"h": replaced}),
             "your h holds only this step's g * g: AdaGrad accumulates every squared "
             "gradient, h = state['h'][name] + g * g."),
            ((stepped(lambda g, hk, ho: g / (np.sqrt(hk) + eps), unsquared),
              {"h": unsquared}),
             "your h adds the gradient itself; AdaGrad adds its square: h = h + g * g "
             "(which also keeps h >= 0 under the square root)."),
            ((stepped(lambda g, hk, ho: g / (np.sqrt(ho) + eps)), {"h": h}),
             "your step divides by the OLD h; add this step's g * g first, then divide by "
             "np.sqrt of the new h (on the first step the old h is 0 and the step explodes)."),
            ((stepped(lambda g, hk, ho: g / (hk + eps)), {"h": h}),
             "you divided by h itself; AdaGrad divides by its square root: "
             "g / (np.sqrt(h) + eps)."),
            ((None, {"h": h_old}),
             "your new state holds the old sums: return the updated ones, "
             "{'h': new_sums}, h = h + g * g."),
        ] + _step_mistakes(params, {k: grads[k] / (np.sqrt(h[k]) + eps) for k in params}, lr)


def check_adagrad_step(student, *, hidden=False):
    """``student(params, grads, state, learning_rate, eps)`` -> ``(new_params, new_state)``.

    ``state = {"h": {name: sum of squared gradients}}``. For every name::

        h_new = h + grads[name] ** 2
        p_new = p - learning_rate * grads[name] / (sqrt(h_new) + eps)

    returned as ``(new_params, {"h": new_sums})``; no argument may change.
    """
    rng = _generator(500, hidden)
    # (shapes, learning_rate, eps, steps already taken): eps large enough in some
    # cases that inside and outside the square root differ, h = 0 and h > 0.
    if hidden:
        settings = [(_TINYNET, 0.01, 1e-10, 0), (_POINT, 0.5, 1e-2, 3), (_MLP, 0.1, 1e-7, 10),
                    (_TINYNET, 1.0, 1e-3, 1), (_MLP, 0.05, 1e-10, 0), (_POINT, 0.2, 0.5, 50),
                    (_MLP, 0.1, 1e-3, 2)]
    else:
        settings = [(_MLP, 0.1, 1e-10, 0), (_MLP, 0.1, 1e-3, 5), (_POINT, 0.5, 0.1, 2),
                    (_MLP, 0.05, 1e-2, 3)]
    cases = []
    for k, (shapes, learning_rate, eps, steps) in enumerate(settings):
        dtype = _dtype(k, settings)
        params, grads = _arrays(rng, shapes, dtype=dtype), _arrays(rng, shapes, dtype=dtype)
        h = _zeros(shapes, dtype)
        for _ in range(steps):  # the sum of earlier squared gradients
            h = {name: h[name] + g * g
                 for name, g in _arrays(rng, shapes, 0.5, dtype).items()}
        cases.append(Case(params=params, grads=grads, state={"h": h},
                          learning_rate=learning_rate, eps=eps,
                          note=_note(f"h after {steps} steps" if steps else "first step, h = 0",
                                     dtype)))
    hint = ("For every name: h_new = state['h'][name] + grads[name] ** 2, then p_new = "
            "params[name] - learning_rate * grads[name] / (np.sqrt(h_new) + eps), eps "
            "outside the square root. Return (new_params, {'h': new_sums}), two new dicts "
            "of new arrays.")
    return check_function("adagrad_step", student, _adagrad_reference, cases, hint,
                          results=("new_params", "new_state"), hidden=hidden,
                          mistakes=_adagrad_mistakes)


# ---------------------------------------------------------------------------
# Adam
# ---------------------------------------------------------------------------

def _adam_reference(params, grads, state, learning_rate, beta1, beta2, eps):
    optimizer = Adam(learning_rate=learning_rate, beta1=beta1, beta2=beta2, eps=eps)
    t = int(state["t"])
    optimizer.state = {name: {"step": t, "m": np.array(state["m"][name], copy=True),
                              "v": np.array(state["v"][name], copy=True)}
                       for name in params}
    new = _copies(params)
    optimizer.step(new, grads)
    return new, {"t": t + 1,
                 "m": {name: optimizer.state[name]["m"] for name in params},
                 "v": {name: optimizer.state[name]["v"] for name in params}}


def _adam_mistakes(params, grads, state, learning_rate, beta1, beta2, eps):
    t = int(state["t"]) + 1
    m = {k: beta1 * state["m"][k] + (1 - beta1) * g for k, g in grads.items()}
    v = {k: beta2 * state["v"][k] + (1 - beta2) * g * g for k, g in grads.items()}

    def stepped(rule):
        return {k: params[k] - learning_rate * rule(m[k], v[k]) for k in params}

    correct = {"t": t, "m": m, "v": v}
    right_step = {k: (m[k] / (1 - beta1 ** t)) / (np.sqrt(v[k] / (1 - beta2 ** t)) + eps)
                  for k in params}
    with np.errstate(all="ignore"):
        return [
            ((stepped(lambda mk, vk: mk / (np.sqrt(vk) + eps)), correct),
             "your step has no bias correction: divide by (1 - beta1 ** t) and "
             "(1 - beta2 ** t) with t the NEW step count (state['t'] + 1), "
             "m_hat = m / (1 - beta1 ** t), v_hat = v / (1 - beta2 ** t)."),
            ((stepped(lambda mk, vk: (mk / (1 - beta1 ** (t - 1)) if t > 1 else mk)
                      / (np.sqrt(vk / (1 - beta2 ** (t - 1)) if t > 1 else vk) + eps)), None),
             "your bias correction uses the old step count; count this step first: "
             "t = state['t'] + 1, then m_hat = m / (1 - beta1 ** t)."),
            ((stepped(lambda mk, vk: (mk / (1 - beta1 ** t))
                      / np.sqrt(vk / (1 - beta2 ** t) + eps)), correct),
             "you put eps inside the square root; Adam adds it outside: "
             "m_hat / (np.sqrt(v_hat) + eps)."),
            ((None, {"t": t, "m": m, "v": {k: beta2 * state["v"][k] + (1 - beta2) * g
                                           for k, g in grads.items()}}),
             "your v averages the gradients, not their squares: "
             "v = beta2 * v + (1 - beta2) * grad ** 2."),
            ((None, {"t": state["t"], "m": m, "v": v}),
             "your new state keeps the old step count; return t + 1 as the new state['t']."),
        ] + _step_mistakes(params, right_step, learning_rate)


def check_adam_step(student, *, hidden=False):
    """``student(params, grads, state, learning_rate, beta1, beta2, eps)`` -> new params, state.

    ``state = {"t": steps so far, "m": {name: ...}, "v": {name: ...}}``. With
    ``t = state["t"] + 1``, for every name::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        p_new = p - learning_rate * (m / (1 - beta1 ** t)) / (sqrt(v / (1 - beta2 ** t)) + eps)

    returned as ``(new_params, {"t": t, "m": ..., "v": ...})``; no argument may change.
    """
    rng = _generator(400, hidden)
    if hidden:
        settings = [(_TINYNET, 0.001, 0.9, 0.999, 1e-8, 0), (_POINT, 0.3, 0.9, 0.999, 1e-8, 7),
                    (_MLP, 0.01, 0.8, 0.99, 1e-3, 1), (_TINYNET, 0.002, 0.5, 0.9, 1e-6, 3),
                    (_MLP, 0.1, 0.95, 0.9999, 1e-8, 250), (_POINT, 0.05, 0.0, 0.5, 1e-2, 0),
                    (_TINYNET, 0.01, 0.9, 0.999, 1e-3, 2)]
    else:
        settings = [(_MLP, 0.01, 0.9, 0.999, 1e-8, 0), (_MLP, 0.01, 0.9, 0.999, 1e-8, 4),
                    (_POINT, 0.3, 0.8, 0.99, 1e-3, 19), (_MLP, 0.01, 0.9, 0.999, 1e-3, 3)]
    cases = []
    for k, (shapes, learning_rate, beta1, beta2, eps, t) in enumerate(settings):
        dtype = _dtype(k, settings)
        params, grads = _arrays(rng, shapes, dtype=dtype), _arrays(rng, shapes, dtype=dtype)
        if t:
            m = _arrays(rng, shapes, 0.3, dtype)
            v = {k: (0.2 * rng.random(s) ** 2).astype(dtype) for k, s in shapes.items()}
        else:
            m, v = _zeros(shapes, dtype), _zeros(shapes, dtype)
        cases.append(Case(params=params, grads=grads, state={"t": t, "m": m, "v": v},
                          learning_rate=learning_rate, beta1=beta1, beta2=beta2, eps=eps,
                          note=_note(f"state['t'] = {t}", dtype)))
    hint = ("t = state['t'] + 1; for every name: m = beta1 * m + (1 - beta1) * g, "
            "v = beta2 * v + (1 - beta2) * g ** 2, m_hat = m / (1 - beta1 ** t), "
            "v_hat = v / (1 - beta2 ** t), p_new = p - learning_rate * m_hat / "
            "(np.sqrt(v_hat) + eps). Return (new_params, {'t': t, 'm': new_m, 'v': new_v}).")
    return check_function("adam_step", student, _adam_reference, cases, hint,
                          results=("new_params", "new_state"), hidden=hidden,
                          mistakes=_adam_mistakes)
