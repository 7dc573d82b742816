"""Tests for tinynet.model: TinyNet, train_one_iter, init_params, output_shapes.

The heart of this file is an independent reference for the course exercise,
written with explicit loops and no tinynet code, that ``train_one_iter`` must
match on random shapes, labels, learning rates and weight decays.
"""

import numpy as np
import pytest

import tinynet
from tinynet.gradcheck import check_network
from tinynet.layers import Convolution, FullyConnected, MaxPool, Relu, SoftmaxWithLoss

PARAM_NAMES = ("W_conv1", "b_conv1", "W_conv2", "b_conv2", "W_fc", "b_fc")


# -- the student's code, pasted unchanged ------------------------------------

class TinyNet:
    def __init__(self, W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc):
        self.conv1 = Convolution(W_conv1, b_conv1, stride=1, pad=1)
        self.relu1 = Relu()
        self.pool1 = MaxPool(2, 2, stride=2, pad=0)
        self.conv2 = Convolution(W_conv2, b_conv2, stride=1, pad=1)
        self.relu2 = Relu()
        self.pool2 = MaxPool(2, 2, stride=2, pad=0)
        self.fc = FullyConnected(W_fc, b_fc)
        self.loss = SoftmaxWithLoss()

    def forward(self, x, t):
        out = self.conv1.forward(x)
        out = self.relu1.forward(out)
        out = self.pool1.forward(out)
        out = self.conv2.forward(out)
        out = self.relu2.forward(out)
        out = self.pool2.forward(out)
        scores = self.fc.forward(out)
        loss = self.loss.forward(scores, t)
        return scores, loss

    def backward(self):
        dout = self.loss.backward(1)
        dout = self.fc.backward(dout)
        dout = self.pool2.backward(dout)
        dout = self.relu2.backward(dout)
        dout = self.conv2.backward(dout)
        dout = self.pool1.backward(dout)
        dout = self.relu1.backward(dout)
        self.conv1.backward(dout)
        return (self.conv1.dW, self.conv1.db, self.conv2.dW, self.conv2.db,
                self.fc.dW, self.fc.db)


# -- an independent reference: explicit loops, no tinynet ---------------------

def ref_conv_forward(x, W, b, pad):
    """out[n, f, i, j] = b[f] + sum(W[f] * x_padded[n, :, i:i+KH, j:j+KW])."""
    N, C, H, Wd = x.shape
    F, _, KH, KW = W.shape
    xp = np.zeros((N, C, H + 2 * pad, Wd + 2 * pad))
    xp[:, :, pad:pad + H, pad:pad + Wd] = x
    OH, OW = H + 2 * pad - KH + 1, Wd + 2 * pad - KW + 1
    out = np.zeros((N, F, OH, OW))
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    out[n, f, i, j] = np.sum(xp[n, :, i:i + KH, j:j + KW] * W[f]) + b[f]
    return out, xp


def ref_conv_backward(dout, xp, W, pad):
    N, F, OH, OW = dout.shape
    _, _, KH, KW = W.shape
    dxp = np.zeros_like(xp)
    dW = np.zeros_like(W)
    db = np.zeros(F)
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    g = dout[n, f, i, j]
                    dW[f] += g * xp[n, :, i:i + KH, j:j + KW]
                    dxp[n, :, i:i + KH, j:j + KW] += g * W[f]
                    db[f] += g
    H, Wd = xp.shape[2] - 2 * pad, xp.shape[3] - 2 * pad
    return dxp[:, :, pad:pad + H, pad:pad + Wd], dW, db


def ref_pool_forward(x):
    """2x2 windows, stride 2, odd sizes floored; the first maximum wins ties."""
    N, C, H, W = x.shape
    OH, OW = H // 2, W // 2
    out = np.zeros((N, C, OH, OW))
    winner = {}
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    best, where = -np.inf, None
                    for a in range(2):
                        for b in range(2):
                            v = x[n, c, 2 * i + a, 2 * j + b]
                            if v > best:
                                best, where = v, (2 * i + a, 2 * j + b)
                    out[n, c, i, j] = best
                    winner[n, c, i, j] = where
    return out, winner


def ref_pool_backward(dout, winner, x_shape):
    dx = np.zeros(x_shape)
    for (n, c, i, j), (r, s) in winner.items():
        dx[n, c, r, s] += dout[n, c, i, j]
    return dx


def ref_loss_and_grads(params, x, t):
    """Mean cross-entropy loss and the six gradients, in PARAM_NAMES order."""
    W1, b1, W2, b2, Wf, bf = (np.asarray(p, dtype=np.float64) for p in params)
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t)
    labels = t.argmax(axis=1) if t.ndim == 2 else t.astype(int)
    N = x.shape[0]

    a1, xp1 = ref_conv_forward(x, W1, b1, pad=1)
    r1 = np.maximum(a1, 0)
    p1, win1 = ref_pool_forward(r1)
    a2, xp2 = ref_conv_forward(p1, W2, b2, pad=1)
    r2 = np.maximum(a2, 0)
    p2, win2 = ref_pool_forward(r2)
    flat = p2.reshape(N, -1)
    scores = flat @ Wf + bf

    loss = 0.0
    dscores = np.zeros_like(scores)
    for n in range(N):
        row = scores[n] - scores[n].max()
        y = np.exp(row) / np.sum(np.exp(row))
        loss -= np.log(y[labels[n]]) / N
        dscores[n] = y / N
        dscores[n, labels[n]] -= 1 / N

    dWf = flat.T @ dscores
    dbf = dscores.sum(axis=0)
    dp2 = (dscores @ Wf.T).reshape(p2.shape)
    dr2 = ref_pool_backward(dp2, win2, r2.shape)
    da2 = dr2 * (a2 > 0)
    dp1, dW2, db2 = ref_conv_backward(da2, xp2, W2, pad=1)
    dr1 = ref_pool_backward(dp1, win1, r1.shape)
    da1 = dr1 * (a1 > 0)
    _, dW1, db1 = ref_conv_backward(da1, xp1, W1, pad=1)
    return loss, (dW1, db1, dW2, db2, dWf, dbf)


def ref_train_one_iter(params, x, t, learning_rate, weight_decay):
    """p - learning_rate * (dL/dp + weight_decay * p) for all six parameters."""
    _, grads = ref_loss_and_grads(params, x, t)
    return tuple(
        np.asarray(p, dtype=np.float64) - learning_rate * (g + weight_decay * np.asarray(p))
        for p, g in zip(params, grads, strict=True)
    )


# -- random cases --------------------------------------------------------------

def pooled(size, kernel):
    """Side length after conv (pad 1, stride 1) and 2x2/2 pooling."""
    return (size + 2 - kernel + 1) // 2


def random_case(rng, **shape):
    """Random non-zero parameters, images and labels for TinyNet.

    Draws again (rarely needed) when every ReLU of the second block is off,
    which makes all gradients but db_fc zero and any comparison vacuous.
    """
    for _ in range(20):
        params, x, t = _draw_case(rng, **shape)
        _, grads = ref_loss_and_grads(params, x, t)
        if all(np.any(g != 0) for g in grads):
            return params, x, t
    raise RuntimeError("could not draw a case with non-zero gradients")


def _draw_case(rng, N=None, C=None, F1=None, F2=None, H=None, W=None, K=None, kernels=None):
    N = N or int(rng.integers(1, 5))
    C = C or int(rng.integers(1, 4))
    F1 = F1 or int(rng.integers(1, 6))
    F2 = F2 or int(rng.integers(1, 6))
    H = H or int(rng.integers(4, 12))
    W = W or int(rng.integers(4, 12))
    K = K or int(rng.integers(2, 11))
    KH1, KW1, KH2, KW2 = kernels or (3, 3, 3, 3)
    H4, W4 = pooled(pooled(H, KH1), KH2), pooled(pooled(W, KW1), KW2)
    params = (
        rng.normal(0, 0.5, (F1, C, KH1, KW1)),
        rng.normal(0, 0.3, F1),
        rng.normal(0, 0.5, (F2, F1, KH2, KW2)),
        rng.normal(0, 0.3, F2),
        rng.normal(0, 0.5, (F2 * H4 * W4, K)),
        rng.normal(0, 0.3, K),
    )
    x = rng.normal(0, 1, (N, C, H, W))
    t = rng.integers(0, K, N)
    return params, x, t


def one_hot(t, K):
    return np.eye(K)[t]


SEEDS = range(20)


@pytest.mark.parametrize("seed", SEEDS)
def test_train_one_iter_matches_loop_reference(seed):
    rng = np.random.default_rng(seed)
    # Even seeds use the course's 3x3 kernels; odd seeds random (non-square) ones.
    kernels = None if seed % 2 == 0 else tuple(int(k) for k in rng.integers(1, 4, 4))
    params, x, t = random_case(rng, N=1 if seed == 0 else None, kernels=kernels)
    K = params[-1].shape[0]
    learning_rate = float(10 ** rng.uniform(-2, 0))
    for weight_decay in (0.0, float(10 ** rng.uniform(-3, -0.5))):
        expected = ref_train_one_iter(params, x, t, learning_rate, weight_decay)
        for labels in (t, one_hot(t, K)):
            got = tinynet.train_one_iter(*params, x, labels, learning_rate, weight_decay)
            assert len(got) == 6
            for name, g, e in zip(PARAM_NAMES, got, expected, strict=True):
                assert g.shape == e.shape, name
                diff = np.max(np.abs(g - e))
                assert diff < 1e-10, (
                    f"{name}: max difference {diff:.2e} from the loop reference "
                    f"(seed {seed}, lr {learning_rate:.3g}, wd {weight_decay:.3g}, "
                    f"labels {'one-hot' if labels.ndim == 2 else 'indices'})"
                )


def test_reference_convolution_is_cross_correlation():
    # A kernel with a single 1 at the top-left picks x_padded[i, j], i.e.
    # x[i-1, j-1]: a true (flipped) convolution would pick x[i+1, j+1].
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    W = np.zeros((1, 1, 3, 3))
    W[0, 0, 0, 0] = 1.0
    expected = np.zeros((4, 4))
    expected[1:, 1:] = x[0, 0, :3, :3]
    ref, _ = ref_conv_forward(x, W, np.zeros(1), pad=1)
    np.testing.assert_array_equal(ref[0, 0], expected)
    np.testing.assert_array_equal(Convolution(W, np.zeros(1), pad=1).forward(x)[0, 0], expected)


def test_reference_pool_floors_and_keeps_first_max():
    x = np.array([[1.0, 5.0, 2.0], [5.0, 0.0, 9.0], [7.0, 7.0, 7.0]])[None, None]
    out, winner = ref_pool_forward(x)
    assert out.shape == (1, 1, 1, 1) and out[0, 0, 0, 0] == 5.0
    assert winner[0, 0, 0, 0] == (0, 1)  # the first 5 in row-major order
    layer = MaxPool(2, 2, stride=2)
    np.testing.assert_array_equal(layer.forward(x), out)
    np.testing.assert_array_equal(
        layer.backward(np.ones((1, 1, 1, 1))),
        ref_pool_backward(np.ones((1, 1, 1, 1)), winner, x.shape),
    )


def test_reference_gradients_match_finite_differences():
    """The reference's own backward agrees with its forward."""
    rng = np.random.default_rng(123)
    params, x, t = random_case(rng, N=2, C=1, F1=2, F2=2, H=5, W=4, K=3)
    _, grads = ref_loss_and_grads(params, x, t)
    eps = 1e-6
    for name, p, g in zip(PARAM_NAMES, params, grads, strict=True):
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            plus = ref_loss_and_grads(params, x, t)[0]
            p[idx] = old - eps
            minus = ref_loss_and_grads(params, x, t)[0]
            p[idx] = old
            numeric[idx] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-8, err_msg=name)


# -- the student's class runs unchanged and matches the package ---------------

@pytest.mark.parametrize("seed", range(4))
def test_student_class_matches_tinynet(seed):
    rng = np.random.default_rng(100 + seed)
    params, x, t = random_case(rng)
    K = params[-1].shape[0]
    for labels in (t, one_hot(t, K)):
        student = TinyNet(*params)
        package = tinynet.TinyNet(*params)
        s_scores, s_loss = student.forward(x, labels)
        p_scores, p_loss = package.forward(x, labels)
        np.testing.assert_allclose(s_scores, p_scores, rtol=1e-12, atol=1e-14)
        assert s_loss == pytest.approx(p_loss, rel=1e-12)
        ref_loss, ref_grads = ref_loss_and_grads(params, x, labels)
        assert p_loss == pytest.approx(ref_loss, rel=1e-10)
        for name, sg, pg, rg in zip(
            PARAM_NAMES, student.backward(), package.backward(), ref_grads, strict=True
        ):
            np.testing.assert_allclose(sg, pg, rtol=1e-12, atol=1e-14, err_msg=name)
            np.testing.assert_allclose(pg, rg, rtol=1e-9, atol=1e-12, err_msg=name)


def test_student_update_matches_train_one_iter():
    rng = np.random.default_rng(7)
    params, x, t = random_case(rng)
    learning_rate, weight_decay = 0.3, 0.01
    student = TinyNet(*params)
    student.forward(x, t)
    grads = student.backward()
    updated = [
        p - learning_rate * (g + weight_decay * p) for p, g in zip(params, grads, strict=True)
    ]
    got = tinynet.train_one_iter(*params, x, t, learning_rate, weight_decay)
    for name, u, g in zip(PARAM_NAMES, updated, got, strict=True):
        np.testing.assert_allclose(g, u, rtol=1e-12, atol=1e-14, err_msg=name)


# -- whole-network gradient check -------------------------------------------

@pytest.mark.parametrize(
    "shape",
    [
        dict(N=2, C=1, F1=2, F2=3, H=6, W=6, K=3),
        dict(N=3, C=2, F1=3, F2=2, H=7, W=5, K=4),   # odd sizes: pooling floors
        dict(N=1, C=3, F1=1, F2=2, H=4, W=9, K=2),
    ],
)
@pytest.mark.parametrize("label_kind", ["indices", "one-hot"])
def test_check_network_passes(shape, label_kind):
    rng = np.random.default_rng(sum(shape.values()))
    params, x, t = random_case(rng, **shape)
    if label_kind == "one-hot":
        t = one_hot(t, shape["K"])
    report = check_network(tinynet.TinyNet, dict(zip(PARAM_NAMES, params, strict=True)), x, t)
    assert report.passed, str(report)
    assert max(report.errors.values()) < 1e-6, str(report)
    assert set(report.errors) == set(PARAM_NAMES)


def test_check_network_catches_a_wrong_backward():
    class Broken(tinynet.TinyNet):
        def backward(self):
            grads = list(super().backward())
            grads[2] = grads[2] * 2  # dW_conv2 off by a factor 2
            return tuple(grads)

    rng = np.random.default_rng(5)
    params, x, t = random_case(rng, N=2, C=1, F1=2, F2=2, H=6, W=6, K=3)
    report = check_network(Broken, dict(zip(PARAM_NAMES, params, strict=True)), x, t)
    assert not report.passed
    assert report.errors["W_conv2"] > 1e-3
    assert report.errors["W_fc"] < 1e-6


# -- train_one_iter's contract ---------------------------------------------

@pytest.fixture
def case():
    rng = np.random.default_rng(42)
    params, x, t = random_case(rng, N=4, C=2, F1=3, F2=4, H=7, W=8, K=5)
    return params, x, t


def test_train_one_iter_does_not_modify_inputs(case):
    params, x, t = case
    t_hot = one_hot(t, 5)
    copies = [p.copy() for p in params], x.copy(), t.copy(), t_hot.copy()
    for labels in (t, t_hot):
        tinynet.train_one_iter(*params, x, labels, 0.5, 0.1)
    for name, p, c in zip(PARAM_NAMES, params, copies[0], strict=True):
        np.testing.assert_array_equal(p, c, err_msg=name)
    np.testing.assert_array_equal(x, copies[1])
    np.testing.assert_array_equal(t, copies[2])
    np.testing.assert_array_equal(t_hot, copies[3])


def test_train_one_iter_returns_new_arrays_in_order(case):
    params, x, t = case
    out = tinynet.train_one_iter(*params, x, t, 0.1, 0.01)
    assert isinstance(out, tuple) and len(out) == 6
    for name, new, old in zip(PARAM_NAMES, out, params, strict=True):
        assert isinstance(new, np.ndarray), name
        assert new is not old, name
        assert not np.shares_memory(new, old), name
        assert new.shape == old.shape, name
        assert new.dtype == np.float64, name
        assert not np.array_equal(new, old), f"{name} did not change"
        # in argument order: each output is a small step from its own input
        assert np.max(np.abs(new - old)) < 0.1 * np.max(np.abs(old)), name


def test_train_one_iter_float32(case):
    params, x, t = case
    expected = tinynet.train_one_iter(*params, x, t, 0.2, 0.05)
    got = tinynet.train_one_iter(*(p.astype(np.float32) for p in params),
                                 x.astype(np.float32), t, 0.2, 0.05)
    for name, g, e in zip(PARAM_NAMES, got, expected, strict=True):
        assert g.dtype == np.float32, name
        assert g.shape == e.shape, name
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5, err_msg=name)


def test_train_one_iter_zero_learning_rate_returns_equal_values(case):
    params, x, t = case
    out = tinynet.train_one_iter(*params, x, t, 0.0, 0.3)
    for name, new, old in zip(PARAM_NAMES, out, params, strict=True):
        np.testing.assert_array_equal(new, old, err_msg=name)


@pytest.mark.parametrize("learning_rate, weight_decay", [(0.01, 0.5), (0.3, 0.01), (1.0, 0.1)])
def test_train_one_iter_weight_decay_term(case, learning_rate, weight_decay):
    params, x, t = case
    plain = tinynet.train_one_iter(*params, x, t, learning_rate, 0.0)
    decayed = tinynet.train_one_iter(*params, x, t, learning_rate, weight_decay)
    for name, d, p0, p in zip(PARAM_NAMES, decayed, plain, params, strict=True):
        # biases decay too, as in the exercise
        np.testing.assert_allclose(d - p0, -learning_rate * weight_decay * p, rtol=0, atol=1e-12,
                                   err_msg=name)


def test_train_one_iter_accepts_integer_one_hot_and_lists(case):
    params, x, t = case
    expected = tinynet.train_one_iter(*params, x, t, 0.1, 0.01)
    for labels in (one_hot(t, 5).astype(int), t.tolist()):
        got = tinynet.train_one_iter(*params, x, labels, 0.1, 0.01)
        for name, g, e in zip(PARAM_NAMES, got, expected, strict=True):
            np.testing.assert_array_equal(g, e, err_msg=name)


def test_train_one_iter_rejects_bad_arguments(case):
    params, x, t = case
    with pytest.raises(ValueError, match="learning_rate must be >= 0"):
        tinynet.train_one_iter(*params, x, t, -0.1, 0.0)
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        tinynet.train_one_iter(*params, x, t, 0.1, -1.0)
    with pytest.raises(TypeError, match="learning_rate must be a real number"):
        tinynet.train_one_iter(*params, x, t, "0.1", 0.0)
    with pytest.raises(ValueError, match="W_conv2 must take the 3 channels"):
        bad = list(params)
        bad[2] = np.ones((4, 2, 3, 3))
        tinynet.train_one_iter(*bad, x, t, 0.1, 0.0)
    with pytest.raises(ValueError, match=r"t must hold class indices in \[0, 4\]"):
        tinynet.train_one_iter(*params, x, t + 5, 0.1, 0.0)


# -- predict, accuracy, classify ---------------------------------------------

@pytest.fixture
def net_and_data():
    rng = np.random.default_rng(3)
    params, _, _ = random_case(rng, C=1, F1=3, F2=4, H=8, W=8, K=6)
    x = rng.normal(0, 1, (23, 1, 8, 8))
    return tinynet.TinyNet(*params), x


def test_predict_shape_and_batching(net_and_data):
    net, x = net_and_data
    full = net.scores(x)
    assert full.shape == (23, 6)
    for batch_size in (1, 7, 1000):
        got = net.predict(x, batch_size=batch_size)
        assert got.shape == (23, 6)
        np.testing.assert_allclose(got, full, rtol=1e-12, atol=1e-14)
    # one sample at a time, by hand
    by_hand = np.concatenate([net.scores(x[i:i + 1]) for i in range(len(x))])
    np.testing.assert_allclose(net.predict(x), by_hand, rtol=1e-12, atol=1e-14)


def test_classify_is_argmax_of_predict(net_and_data):
    net, x = net_and_data
    labels = net.classify(x, batch_size=5)
    assert labels.shape == (23,)
    np.testing.assert_array_equal(labels, net.scores(x).argmax(axis=1))


@pytest.mark.parametrize("N", [1, 2, 10, 23])
@pytest.mark.parametrize("batch_size", [1, 4, 256])
def test_accuracy_matches_direct_computation(net_and_data, N, batch_size):
    net, x = net_and_data
    x = x[:N]
    rng = np.random.default_rng(N * 1000 + batch_size)
    predicted = net.scores(x).argmax(axis=1)
    # Make roughly half the labels right, so the accuracy is not trivially 0 or 1.
    t = np.where(rng.random(N) < 0.5, predicted, (predicted + 1) % 6)
    expected = np.mean(predicted == t)
    assert net.accuracy(x, t, batch_size=batch_size) == pytest.approx(expected, abs=1e-15)
    assert net.accuracy(x, one_hot(t, 6), batch_size=batch_size) == pytest.approx(
        expected, abs=1e-15
    )


def test_evaluate_loss_is_mean_over_all_batches(net_and_data):
    net, x = net_and_data
    t = np.arange(23) % 6
    loss_all, acc_all = net.evaluate(x, t, batch_size=1000)
    loss_batched, acc_batched = net.evaluate(x, t, batch_size=4)
    assert loss_batched == pytest.approx(loss_all, rel=1e-12)
    assert acc_batched == acc_all
    assert loss_all == pytest.approx(net.forward(x, t)[1], rel=1e-12)


def test_predict_rejects_bad_input(net_and_data):
    net, x = net_and_data
    with pytest.raises(ValueError, match=r"x must be a 4-D array \(N, C, H, W\)"):
        net.predict(x[0, 0])
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        net.predict(x, batch_size=0)
    with pytest.raises(ValueError, match="one label per sample"):
        net.accuracy(x, np.zeros(3, dtype=int))


# -- init_params and output_shapes -------------------------------------------

@pytest.mark.parametrize(
    "input_shape, fc_in",
    [((1, 8, 8), 16 * 2 * 2), ((1, 28, 28), 16 * 7 * 7), ((3, 7, 9), 16 * 1 * 2),
     ((2, 4, 5), 16 * 1 * 1)],
)
def test_init_params_shapes(input_shape, fc_in):
    C = input_shape[0]
    params = tinynet.init_params(input_shape, conv1_filters=8, conv2_filters=16, num_classes=10)
    assert list(params) == list(PARAM_NAMES)
    assert params["W_conv1"].shape == (8, C, 3, 3)
    assert params["b_conv1"].shape == (8,)
    assert params["W_conv2"].shape == (16, 8, 3, 3)
    assert params["b_conv2"].shape == (16,)
    assert params["W_fc"].shape == (fc_in, 10)
    assert params["b_fc"].shape == (10,)
    # and the network runs on such images
    x = np.random.default_rng(0).normal(size=(2, *input_shape))
    assert tinynet.TinyNet(**params).scores(x).shape == (2, 10)


def test_init_params_he_scale_and_zero_biases():
    params = tinynet.init_params((1, 28, 28), conv1_filters=32, conv2_filters=64,
                                 num_classes=10, rng=1)
    fan_in = {"W_conv1": 1 * 9, "W_conv2": 32 * 9, "W_fc": 64 * 7 * 7}
    for name in ("W_conv2", "W_fc"):  # the big layers: 18432 and 31360 weights
        std = params[name].std()
        assert std == pytest.approx(np.sqrt(2 / fan_in[name]), rel=0.05), name
        assert abs(params[name].mean()) < 0.05 * std, name
    for name in ("b_conv1", "b_conv2", "b_fc"):
        np.testing.assert_array_equal(params[name], 0.0)


def test_init_params_seeding_and_dtype():
    a = tinynet.init_params((1, 8, 8), rng=5)
    b = tinynet.init_params((1, 8, 8), rng=5)
    c = tinynet.init_params((1, 8, 8), rng=6)
    g1 = tinynet.init_params((1, 8, 8), rng=np.random.default_rng(5))
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(a[name], b[name])
        np.testing.assert_array_equal(a[name], g1[name])  # an int seeds default_rng
    assert not np.array_equal(a["W_conv1"], c["W_conv1"])
    f32 = tinynet.init_params((1, 8, 8), rng=5, dtype=np.float32)
    for name in PARAM_NAMES:
        assert a[name].dtype == np.float64
        assert f32[name].dtype == np.float32
        np.testing.assert_allclose(f32[name], a[name], rtol=1e-6)


def test_init_params_rejects_bad_arguments():
    with pytest.raises(ValueError, match="input_shape must be \\(C, H, W\\)"):
        tinynet.init_params((8, 8))
    with pytest.raises(ValueError, match="too small"):
        tinynet.init_params((1, 3, 8))
    with pytest.raises(TypeError, match="dtype must be a float type"):
        tinynet.init_params((1, 8, 8), dtype=np.int32)
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        tinynet.init_params((1, 8, 8), num_classes=1)


@pytest.mark.parametrize("input_shape", [(1, 8, 8), (3, 7, 9), (2, 11, 4)])
def test_output_shapes_match_a_forward_pass(input_shape):
    params = tinynet.init_params(input_shape, conv1_filters=3, conv2_filters=5, num_classes=4)
    table = tinynet.output_shapes(input_shape, params)
    net = tinynet.TinyNet(**params)
    x = np.random.default_rng(1).normal(size=(2, *input_shape))
    assert table[0] == ("input", tuple(input_shape), 0)
    out = x
    rows = table[1:]
    assert [name for name, _, _ in rows] == [name for name, _ in net.layers]
    for (name, shape, _), (_, layer) in zip(rows, net.layers, strict=True):
        out = layer.forward(out)
        assert out.shape[1:] == tuple(shape), (
            f"{name}: table says {shape}, forward gives {out.shape[1:]}"
        )
    counts = {name: count for name, _, count in table}
    assert counts["conv1"] == params["W_conv1"].size + params["b_conv1"].size
    assert counts["fc"] == params["W_fc"].size + params["b_fc"].size
    assert sum(counts.values()) == sum(p.size for p in params.values())


# -- the reference reads like the exercise -----------------------------------

def test_tinynet_runs_its_layers_in_the_exercise_order(monkeypatch):
    """conv1 -> relu1 -> pool1 -> conv2 -> relu2 -> pool2 -> fc, and back in reverse."""
    rng = np.random.default_rng(21)
    params, x, t = random_case(rng)
    net = tinynet.TinyNet(*params)
    calls = []
    for name, layer in net.layers:
        for method in ("forward", "_forward", "backward", "_backward"):
            original = getattr(layer, method)

            def spy(*args, _original=original, _name=name, _method=method):
                call = (_name, _method.strip("_"))
                if not calls or calls[-1] != call:  # forward calls its own _forward
                    calls.append(call)
                return _original(*args)

            monkeypatch.setattr(layer, method, spy)
    net.forward(x, t)
    net.backward()
    order = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "fc"]
    assert [name for name, _ in net.layers] == order
    assert calls == ([(name, "forward") for name in order]
                     + [(name, "backward") for name in reversed(order)])


def test_train_one_iter_source_is_the_exercise_steps():
    """What a student sees with inspect.getsource: build, forward, backward, update."""
    import inspect
    import re

    source = inspect.getsource(tinynet.train_one_iter)
    body = source[source.index('"""', source.index('"""') + 3) + 3:]  # after the docstring
    steps = [r"TinyNet\(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc\)", r"net\.forward\(x, t\)",
             r"net\.backward\(\)", r"p - learning_rate \* \(grad \+ weight_decay \* p\)"]
    positions = [re.search(step, body) for step in steps]
    assert all(positions), [step for step, found in zip(steps, positions, strict=True) if not found]
    assert [m.start() for m in positions] == sorted(m.start() for m in positions)
    assert "fast" not in body and "_engine" not in body
