"""The fast path: TinyNet's training step with every trick for speed (advanced).

Start with :mod:`tinynet.layers` and :func:`tinynet.train_one_iter`: one
plain layer at a time, a TinyNet built, forward, backward, update. This
module computes the same numbers, the loss and the six gradients of TinyNet
on a batch, several times faster, with tricks that would hide the ideas in
the teaching code. It is for reading once the plain version is clear:

* :func:`train_one_iter`: the exercise's function, same arguments and same
  numbers as :func:`tinynet.train_one_iter`;
* :func:`loss_and_gradients` (of a TinyNet) and :func:`gradients` (of the
  six parameters by name): what :func:`tinynet.train`, the slider panels
  and the command line use for every step.

The tricks:

* **Blocks of the batch.** The batch is cut into an even number of equal
  blocks of a few samples (about 5 MB of buffers each, which every thread
  allocates once and reuses); each block runs the whole forward and
  backward pass, and the blocks' gradients are added up in block order.
  The blocks depend only on the shapes, so results never depend on the
  thread count or on timing.
* **Rows in pool order.** im2col is one stride-trick copy of a padded block
  into rows ordered so that the convolution's output (rows @ weights)
  holds the four values of every 2x2 pooling window in four contiguous
  blocks: pooling is three ``np.maximum`` calls and its backward a dozen
  contiguous operations. ReLU runs after the pool (they commute), on a 4x
  smaller array.
* **Batch last for conv1, channels last for conv2.** conv1's input is
  stored (H, W, C, B) and its rows (dh, dw, i, j, b), so that the copy runs
  along the batch even for one input channel and tiny images (its rows are
  stored transposed, for the same reason); conv2's input is (B, H, W, C),
  where a window's (kw, c) values are contiguous on both sides of the copy.
* **Views built once.** Every view a block works through (stride-trick
  windows, row chunks, shifted slices) is made once per workspace: on small
  images a step is a few dozen numpy calls, and making views is a good part
  of their cost.
* **Products in small row chunks.** Each matrix product runs as numpy's
  batched ``matmul`` over a (chunks, rows, K) view of its tall operand: one
  call from Python, one BLAS call per chunk of at most a million
  multiply-adds (where OpenBLAS has small-matrix kernels; four million
  elsewhere). Weight gradients are summed over the chunks in chunk order.
* **Bias folded into the product** as a column of ones in the im2col rows;
  the bias gradient is then the last row of the weight gradient.
* **col2im as one batched product** into nine contiguous blocks (one per
  kernel offset), then shifted adds instead of a scatter of columns: along
  the width a shift of the whole flat array of rows (b, i, j), once the
  products that would wrap into the next image row are zeroed; along the
  height a shift by whole image rows.
* **Two Python threads** over the blocks, with BLAS pinned to one thread
  (threadpoolctl), when the step is large enough to pay for them.

Where its layout assumptions do not hold (kernels other than 3x3, heights
or widths not divisible by 4), it falls back to :class:`tinynet.TinyNet`'s
layers. ``tests/test_fast.py`` checks it against those layers, on randomly
drawn networks and batches (hypothesis) as well as on chosen edge cases.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._checks import as_float_array, check_labels, check_number
from .model import PARAM_NAMES, TinyNet, _check_step_results

# Samples per block: at most about this many bytes of conv1 output and col2im
# products per block (see _fused). Measured on 2 cores: 5 MB beat 0.5-2 MB
# (fewer numpy calls per sample, so less waiting for the GIL with two
# threads) once the products were chunked; 8 MB gained nothing more.
_BLOCK_BYTES = 5 << 20
# Below this many floating-point operations per step, one thread is faster.
_MIN_FLOP_FOR_THREADS = 40e6
# Matrix products are cut into batches of row chunks of at most this many
# multiply-adds (rows * K * N) each (see _chunk_rows); None: chosen from the
# BLAS kernel by _gemm_chunk.
_GEMM_CHUNK = None
# OpenBLAS kernels with small-matrix GEMM kernels (used up to 100^3
# multiply-adds), and the chunk size for them and for every other BLAS.
_SMALL_KERNEL_ARCHS = {"skylakex", "cooperlake", "sapphirerapids"}
_SMALL_CHUNK, _CACHE_CHUNK = 1_000_000, 4_000_000
# At most this many bytes of per-chunk weight-gradient products at once.
_GRAD_STACK_BYTES = 1 << 20

_controller = None
_controller_lock = threading.Lock()
_executor = None


def _blas_controller():
    global _controller
    with _controller_lock:
        if _controller is None:
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController()
    return _controller


def _workers():
    """Threads to use: the BLAS thread count numpy runs with (at most 2 per core pair)."""
    blas = _blas_controller().select(user_api="blas")
    threads = max([lib.num_threads for lib in blas.lib_controllers] or [1])
    return max(1, min(threads, os.cpu_count() or 1, 2))


def _gemm_chunk():
    """Multiply-adds per product chunk: ``_GEMM_CHUNK``, or chosen from the BLAS kernel once."""
    global _GEMM_CHUNK
    if _GEMM_CHUNK is None:
        archs = {str(getattr(lib, "architecture", "")).lower()
                 for lib in _blas_controller().select(user_api="blas").lib_controllers}
        _GEMM_CHUNK = _SMALL_CHUNK if archs & _SMALL_KERNEL_ARCHS else _CACHE_CHUNK
    return _GEMM_CHUNK


def train_one_iter(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc,
                   x, t, learning_rate, weight_decay):
    """:func:`tinynet.train_one_iter` through the fused pass: same arguments, same numbers.

    The gradients come from :func:`gradients` instead of a TinyNet's layers;
    the update is the same expression, ``p - learning_rate * (dL/dp +
    weight_decay * p)`` for every parameter, on new arrays (the ones passed
    in are not modified). ``tests/test_fast.py`` checks it against the
    reference on randomly drawn networks and batches.
    """
    learning_rate = check_number("learning_rate", learning_rate, minimum=0.0)
    weight_decay = check_number("weight_decay", weight_decay, minimum=0.0)
    given = (W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
    params = {name: as_float_array(name, p) for name, p in zip(PARAM_NAMES, given, strict=True)}
    _, grads = gradients(params, x, t)
    new_params = tuple(params[name] - learning_rate * (grads[name] + weight_decay * params[name])
                       for name in PARAM_NAMES)
    return _check_step_results(new_params, learning_rate, weight_decay)


def fast_path_applies(net, x):
    """Whether the engine's layouts fit this network and batch."""
    return _applies(net.params, x)


def _applies(params, x):
    """Whether the engine's layouts fit these parameters (by name) and batch ``x``.

    Everything the fused pass relies on is checked here, so that any other
    case (a wrong shape included) goes to the layers, whose checks explain it.
    """
    W1, b1, W2, b2 = params["W_conv1"], params["b_conv1"], params["W_conv2"], params["b_conv2"]
    Wfc, bfc = params["W_fc"], params["b_fc"]
    if x.ndim != 4 or W1.ndim != 4 or W2.ndim != 4 or Wfc.ndim != 2:
        return False
    N, C, H, W = x.shape
    F1, F2 = W1.shape[0], W2.shape[0]
    return (N >= 1 and H >= 4 and W >= 4 and H % 4 == 0 and W % 4 == 0
            and W1.shape[1:] == (C, 3, 3) and b1.shape == (F1,)
            and W2.shape[1:] == (F1, 3, 3) and b2.shape == (F2,)
            and Wfc.shape[0] == F2 * (H // 4) * (W // 4) and Wfc.shape[1] >= 1
            and bfc.shape == (Wfc.shape[1],))


def loss_and_gradients(net, x, t):
    """Loss and gradients of TinyNet ``net`` on the batch ``(x, t)``.

    Parameters
    ----------
    net : TinyNet
    x : ndarray of shape (N, C, H, W)
    t : ndarray of shape (N,) of integer labels, or (N, K) one-hot rows

    Returns
    -------
    loss : float
        Mean cross-entropy over the batch.
    grads : dict of str to ndarray
        ``dW_conv1`` ... as ``{"W_conv1": ..., ...}``, in the parameters' dtypes.
    """
    return gradients(net.params, x, t, net)


def gradients(params, x, t, net=None):
    """:func:`loss_and_gradients` for TinyNet's six parameters given by name.

    ``params`` are float arrays (as :func:`tinynet._checks.as_float_array`
    returns them); the TinyNet that the layers' path needs is built from them
    only when the fused pass does not apply, or ``net`` is used if given.
    """
    x = as_float_array("x", x, ndim=4, shape_hint="(N, C, H, W)")
    if not _applies(params, x):
        return _with_layers(net, params, x, t)
    labels, _ = check_labels("t", t, x.shape[0], params["W_fc"].shape[1])
    dtype = np.result_type(x.dtype, *(p.dtype for p in params.values()))
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = _fused(params, x, labels, dtype)
    if not np.isfinite(loss):
        # Let the layers raise their own message about non-finite values.
        return _with_layers(net, params, x, t)
    return loss, {name: g.astype(params[name].dtype, copy=False) for name, g in grads.items()}


def _with_layers(net, params, x, t):
    if net is None:
        net = TinyNet(**params)
    _, loss = net.forward(x, t)
    net.backward()
    return loss, net.grads


# ---------------------------------------------------------------------------
# The fused pass
# ---------------------------------------------------------------------------

def _weight_rows(W, b, dtype):
    """(F, C, 3, 3) filters and (F,) biases as one (9 C + 1, F) matrix.

    Rows (kh, kw, c), the bias last.
    """
    F, C = W.shape[:2]
    Wm = np.empty((9 * C + 1, F), dtype=dtype)
    Wm[:-1] = W.transpose(2, 3, 1, 0).reshape(9 * C, F)
    Wm[-1] = b
    return Wm


def _im2col_pool_order(xp, B, H2, W2, C, out):
    """Views for copying the 3x3 windows of padded ``xp`` (B, 2 H2 + 2, 2 W2 + 2, C) into ``out``.

    ``out`` has shape (4 B H2 W2, 9 C + 1); row (dh, dw, b, i, j) holds the
    window centred on pixel (2 i + dh, 2 j + dw), columns (kh, kw, c). The
    last column (the bias's ones) is left alone. Returns ``(target,
    windows)``: ``np.copyto(target, windows)`` does the copy. (The views
    are built once per workspace: ``as_strided`` alone costs microseconds.)
    """
    sb, sh, sw, sc = xp.strides
    windows = as_strided(xp, shape=(2, 2, B, H2, W2, 3, 3, C),
                         strides=(sh, sw, sb, 2 * sh, 2 * sw, sh, sw, sc))
    r, e = out.strides
    target = as_strided(out, shape=(2, 2, B, H2, W2, 3, 3, C),
                        strides=(2 * B * H2 * W2 * r, B * H2 * W2 * r, H2 * W2 * r, W2 * r, r,
                                 3 * C * e, C * e, e))
    return target, windows


def _im2col_pool_order_T(xp, B, H2, W2, C, outT):
    """Views for the 3x3 windows of batch-last padded ``xp`` (2 H2 + 2, 2 W2 + 2, C, B), transposed.

    Into ``outT`` (9 C + 1, 4 H2 W2 B): row (kh, kw, c), column
    (dh, dw, i, j, b) holds pixel (2 i + dh + kh, 2 j + dw + kw) of channel c
    of image b. The batch is the innermost axis on both sides, so the copy
    runs in stretches of B values however small the images are. The last
    row (the bias's ones) is left alone. Returns ``(target, windows)`` as
    :func:`_im2col_pool_order` does.
    """
    sh, sw, sc, sb = xp.strides
    windows = as_strided(xp, shape=(3, 3, C, 2, 2, H2, W2, B),
                         strides=(sh, sw, sc, sh, sw, 2 * sh, 2 * sw, sb))
    return outT[:-1].reshape(3, 3, C, 2, 2, H2, W2, B), windows


def _chunk_rows(rows, unit, KN):
    """Rows per chunk for a product of ``rows`` rows by a (K, N) matrix (``KN = K * N``).

    A multiple of ``unit`` that divides ``rows``, as large as possible with at
    most :func:`_gemm_chunk` multiply-adds per chunk (at least ``unit``). The
    engine's products are tall and thin (thousands of rows by 16-64
    columns); numpy's batched ``matmul`` over a (rows / r, r, K) view runs
    one BLAS call per chunk from C, with no Python loop. Where OpenBLAS has
    small-matrix kernels (SkylakeX and later: products of at most 100^3
    multiply-adds), chunks of that size run 1.5-2x faster for these shapes;
    elsewhere (e.g. Haswell) chunks of 4 million keep the operands in cache
    and cost about as much as one large product.
    """
    limit = _gemm_chunk()
    count = rows // unit
    best = 1
    for c in range(1, count + 1):
        if count % c == 0 and unit * c * KN <= limit:
            best = c
    return unit * best


def _grad_chunk_rows(rows, r, KN, itemsize):
    """Rows per chunk for a weight gradient, a sum over chunks of (K, N) products.

    ``r`` (from :func:`_chunk_rows`) times the smallest factor that keeps the
    stack of per-chunk products within ``_GRAD_STACK_BYTES``, so that its
    memory stays small (the large case has 32 chunks of (289, 64) otherwise).
    """
    count = rows // r
    for c in range(1, count + 1):
        if count % c == 0 and (count // c) * KN * itemsize <= _GRAD_STACK_BYTES:
            return r * c
    return rows


def _chunked(a, r):
    """(M, K) array as a (M // r, r, K) view: a batch of row chunks for matmul."""
    return a.reshape(-1, r, a.shape[-1])


def _pool4(a, m, scratch):
    """Max of the four contiguous blocks of ``a`` (4, M) into ``m`` (M,)."""
    np.maximum(a[0], a[1], out=m)
    np.maximum(a[2], a[3], out=scratch)
    np.maximum(m, scratch, out=m)


def _unpool4(a, m, g, out, mask):
    """Route ``g`` (M,) to the first of the four blocks of ``a`` equal to ``m``.

    Writes (4, M) ``out``; overwrites ``g``. Ties go to the first block, as
    in :class:`tinynet.layers.MaxPool` (row-major first maximum).
    """
    for k in range(3):
        np.equal(a[k], m, out=mask)
        np.multiply(g, mask, out=out[k])
        np.subtract(g, out[k], out=g)  # exactly 0 where block k won
    out[3] = g


_local = threading.local()
_all_spaces = []  # every thread's workspace dict, so that clear_workspaces can reach them


def clear_workspaces():
    """Free the buffers every thread keeps (the next step allocates them again)."""
    for spaces in _all_spaces:
        spaces.clear()


def _workspace(B, C, H, W, F1, F2, dtype):
    """This thread's buffers for a block of this shape, allocated once and reused.

    Reusing them keeps them in cache and spares the page faults of fresh
    large allocations (which also serialise threads in the kernel). The
    zero borders of the padded arrays and the ones columns are written once.
    """
    key = (B, C, H, W, F1, F2, np.dtype(dtype), _gemm_chunk(), _GRAD_STACK_BYTES)
    spaces = getattr(_local, "spaces", None)
    if spaces is None:
        spaces = _local.spaces = {}
        _all_spaces.append(spaces)
    ws = spaces.get(key)
    if ws is not None:
        return ws
    if len(spaces) >= 4:  # a new batch geometry: drop the old buffers
        spaces.clear()
    H2, W2, H4, W4 = H // 2, W // 2, H // 4, W // 4
    R1, R2 = 4 * B * H2 * W2, 4 * B * H4 * W4
    M1, M2 = R1 * F1 // 4, R2 * F2 // 4
    ws = dict(
        xp=np.zeros((H + 2, W + 2, C, B), dtype=dtype),   # batch last (see _block_pass)
        cols1T=np.ones((9 * C + 1, R1), dtype=dtype),
        a1=np.empty((R1, F1), dtype=dtype),
        m1=np.empty(M1, dtype=dtype),
        # shared by both blocks' pools: conv2 may have far more values than
        # conv1 (F2 > 4 F1), so the larger of the two
        scratch=np.empty(max(M1, M2), dtype=dtype),
        mask=np.empty(max(M1, M2), dtype=bool),
        p1p=np.zeros((B, H2 + 2, W2 + 2, F1), dtype=dtype),
        cols2=np.ones((R2, 9 * F1 + 1), dtype=dtype),
        a2=np.empty((R2, F2), dtype=dtype),
        m2=np.empty(M2, dtype=dtype),
        da2=np.empty((4, M2), dtype=dtype),
        image=np.empty((B, H2, W2, F2), dtype=dtype),   # conv2's output gradient, image order
        D=np.empty((3, 3, B, H2, W2, F1), dtype=dtype),  # col2im's nine products
        g1=np.empty((H2, W2, B, F1), dtype=dtype),
    )
    # rows per product chunk (see _chunk_rows), worked out once per geometry
    itemsize = np.dtype(dtype).itemsize
    r1 = _chunk_rows(R1, B, (9 * C + 1) * F1)          # chunks of whole (dh, dw, i, j) rows
    r2 = _chunk_rows(R2, H4 * W4, (9 * F1 + 1) * F2)
    g1r = _grad_chunk_rows(R1, r1, (9 * C + 1) * F1, itemsize)
    g2r = _grad_chunk_rows(R2, r2, (9 * F1 + 1) * F2, itemsize)
    rd = _chunk_rows(B * H2 * W2, H2 * W2, F2 * F1)
    # Every view _block_pass works through, built once: a step on small
    # images is a few dozen numpy calls, and making views is a good part of
    # their cost. Names: ..._in (written), ..._ch (row chunks for matmul).
    Q = B * H2 * W2                                # col2im rows (b, i, j)
    cols1 = ws["cols1T"].T                         # (R1, 9 C + 1), a view
    D = ws["D"]
    ws.update(
        xp_in=ws["xp"][1:-1, 1:-1],
        im2col1=_im2col_pool_order_T(ws["xp"], B, H2, W2, C, ws["cols1T"]),
        cols1_ch=_chunked(cols1, r1),
        a1_ch=_chunked(ws["a1"], r1),
        a1_4=ws["a1"].reshape(4, M1),
        scratch1=ws["scratch"][:M1],
        mask1_flat=ws["mask"][:M1],
        relu1=(ws["m1"].reshape(H2, W2, B, F1).transpose(2, 0, 1, 3),
               ws["p1p"][:, 1:-1, 1:-1, :]),
        im2col2=_im2col_pool_order(ws["p1p"], B, H4, W4, F1, ws["cols2"]),
        cols2_ch=_chunked(ws["cols2"], r2),
        a2_ch=_chunked(ws["a2"], r2),
        a2_4=ws["a2"].reshape(4, M2),
        scratch2=ws["scratch"][:M2],
        mask2=ws["mask"][:M2],
        rows=np.arange(B),
        dW2_ch=(_chunked(ws["cols2"], g2r).transpose(0, 2, 1),
                _chunked(ws["da2"].reshape(R2, F2), g2r)),
        # da2 (dh, dw, b, i4, j4, f) into image order (b, 2 i4 + dh, 2 j4 + dw, f)
        to_image=(ws["image"].reshape(B, H4, 2, W4, 2, F2),
                  ws["da2"].reshape(2, 2, B, H4, W4, F2).transpose(2, 3, 0, 4, 1, 5)),
        image_ch=_chunked(ws["image"].reshape(Q, F2), rd)[None],
        D_ch=D.reshape(9, -1, rd, F1),
        # kw = 0 products at j = 0 and kw = 2 products at j = W2 - 1 fall
        # outside the image; zeroed, the shifts of whole flat rows need no masks
        outside=(D[:, 0, :, :, 0], D[:, 2, :, :, W2 - 1]),
        # along the width, into D[:, 1] (all three kh at once): flat rows (b, i, j)
        kw_shifts=((D[:, 1].reshape(3, Q, F1)[:, :-1], D[:, 0].reshape(3, Q, F1)[:, 1:]),
                   (D[:, 1].reshape(3, Q, F1)[:, 1:], D[:, 2].reshape(3, Q, F1)[:, :-1])),
        # along the height, into D[1, 1]: whole image rows
        kh_shifts=((D[1, 1, :, :-1], D[0, 1, :, 1:]), (D[1, 1, :, 1:], D[2, 1, :, :-1])),
        dp1=D[1, 1].transpose(1, 2, 0, 3),         # in conv1's (i, j, b, f)
        mask1=ws["mask"][:M1].reshape(H2, W2, B, F1),
        g1_flat=ws["g1"].reshape(-1),
        dW1_ch=(_chunked(cols1, g1r).transpose(0, 2, 1),
                _chunked(ws["a1"], g1r)),
    )
    spaces[key] = ws
    return ws


def _block_pass(xb, labels, consts, N):
    """Forward and backward on one block; returns its share of loss and gradients."""
    W1m, W2m, W2k, Wfc, bfc, dtype = consts
    B, C, H, W = xb.shape
    F1, F2 = W1m.shape[1], W2m.shape[1]
    ws = _workspace(B, C, H, W, F1, F2, dtype)

    # conv1 -> pool1 -> relu1, batch last: rows (dh, dw, i, j, b). conv1's
    # rows are stored transposed, (9 C + 1, R1), last row the ones: with few
    # input channels a row is only 9 C values long, and copying along the
    # batch (B values) is faster than along (kw, c) (3 C values)
    ws["xp_in"][...] = xb.transpose(2, 3, 1, 0)   # zero border, interior rewritten
    np.copyto(*ws["im2col1"])
    np.matmul(ws["cols1_ch"], W1m, out=ws["a1_ch"])
    a1, m1, mask = ws["a1_4"], ws["m1"], ws["mask1_flat"]
    _pool4(a1, m1, ws["scratch1"])                 # the 4 cells of each window; m1: (i, j, b, f)
    np.maximum(ws["relu1"][0], 0, out=ws["relu1"][1])   # into p1p, (b, i, j, f), padded

    # conv2 -> pool2 -> relu2, channels last: rows (dh, dw, b, i, j)
    np.copyto(*ws["im2col2"])
    np.matmul(ws["cols2_ch"], W2m, out=ws["a2_ch"])
    a2, m2, mask2 = ws["a2_4"], ws["m2"], ws["mask2"]
    _pool4(a2, m2, ws["scratch2"])
    p2 = np.maximum(m2, 0).reshape(B, -1)         # per sample (h, w, f)

    # fully connected + softmax with cross-entropy
    scores = p2 @ Wfc
    scores += bfc                                  # (B, K)
    scores -= scores.max(axis=1, keepdims=True)    # shifted: the largest is 0
    exp = np.exp(scores)
    sum_exp = exp.sum(axis=1, keepdims=True)
    rows = ws["rows"]
    loss = float(np.log(sum_exp).sum() - scores[rows, labels].sum())
    dscores = exp / sum_exp
    dscores[rows, labels] -= 1
    dscores /= N

    # backward
    dWfc = p2.T @ dscores
    dbfc = dscores.sum(axis=0)
    g2 = (dscores @ Wfc.T).reshape(-1)             # d relu2 output, (B*H4*W4*F2,)
    np.greater(m2, 0, out=mask2)
    g2 *= mask2
    _unpool4(a2, m2, g2, ws["da2"], mask2)
    # (9 F1 + 1, F2), bias gradient last: per-chunk products, summed in chunk order
    dW2m = np.matmul(*ws["dW2_ch"]).sum(axis=0)
    # col2im: reorder da2 to image order (one copy), one batched product into
    # nine contiguous blocks D[kh, kw] (one per kernel offset), then shifted
    # adds instead of a scatter. Input pixel (i, j) gets D[kh, kw] at
    # (i + 1 - kh, j + 1 - kw): along the width that is a shift of the whole
    # flat array of rows (b, i, j) by one row, once the products that would
    # wrap into a neighbouring image row are zeroed; along the height, a
    # shift by one image row within each image.
    np.copyto(*ws["to_image"])
    np.matmul(ws["image_ch"], W2k[:, None], out=ws["D_ch"])
    for outside in ws["outside"]:
        outside[...] = 0
    for target, shifted in ws["kw_shifts"] + ws["kh_shifts"]:
        target += shifted
    np.greater(m1, 0, out=mask)
    np.multiply(ws["dp1"], ws["mask1"], out=ws["g1"])      # back to conv1's (i, j, b, f)
    _unpool4_into_self(a1, m1, ws["g1_flat"], mask)    # a1 becomes da1
    dW1m = np.matmul(*ws["dW1_ch"]).sum(axis=0)   # (9 C + 1, F1)
    return loss, dW1m, dW2m, dWfc, dbfc


def _unpool4_into_self(a, m, g, mask):
    """:func:`_unpool4` writing over ``a`` itself (each block is read before it is written)."""
    for k in range(3):
        np.equal(a[k], m, out=mask)
        np.multiply(g, mask, out=a[k])
        np.subtract(g, a[k], out=g)
    a[3] = g


def _fused(params, x, labels, dtype):
    N, C, H, W = x.shape
    W1, W2 = params["W_conv1"], params["W_conv2"]
    F1, F2 = W1.shape[0], W2.shape[0]
    H4, W4 = H // 4, W // 4
    K = params["W_fc"].shape[1]
    W1m = _weight_rows(W1, params["b_conv1"], dtype)
    W2m = _weight_rows(W2, params["b_conv2"], dtype)
    W2k = np.ascontiguousarray(W2.transpose(2, 3, 0, 1).reshape(9, F2, F1), dtype=dtype)
    # fc rows from channels-first (f, h, w) to the engine's (h, w, f)
    Wfc = np.ascontiguousarray(
        params["W_fc"].reshape(F2, H4, W4, K).transpose(1, 2, 0, 3).reshape(-1, K), dtype=dtype)
    bfc = params["b_fc"].astype(dtype, copy=False)
    consts = (W1m, W2m, W2k, Wfc, bfc, dtype)

    # the largest per-sample buffers: conv1's output (4 cells of each pooling
    # window) and col2im's nine products, H2 W2 F1 values each
    per_sample = 13 * (H // 2) * (W // 2) * F1 * np.dtype(dtype).itemsize
    largest = max(1, min(N, _BLOCK_BYTES // per_sample))
    # blocks of (nearly) equal size, an even number of them if more than one,
    # so that two threads get equal work (the same blocks for any thread
    # count: the sums, and so the results, never depend on it)
    count = -(-N // largest)
    count += count % 2 if count > 1 else 0
    B = -(-N // count)
    starts = range(0, N, B)

    def run(s):
        return _block_pass(x[s:s + B], labels[s:s + B], consts, N)

    flop = 2 * N * H * W * (9 * C * F1 + 9 * F1 * F2 / 4) * 3
    workers = _workers() if len(starts) > 1 and flop >= _MIN_FLOP_FOR_THREADS else 1
    if workers > 1:
        global _executor
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tinynet")
        with _blas_controller().limit(limits=1, user_api="blas"):
            parts = list(_executor.map(run, starts))
    else:
        parts = [run(s) for s in starts]

    loss = sum(p[0] for p in parts) / N
    totals = list(parts[0][1:])
    for part in parts[1:]:                          # in block order: deterministic
        for total, g in zip(totals, part[1:], strict=True):
            total += g
    dW1m, dW2m, dWfc, dbfc = totals
    grads = {
        "W_conv1": dW1m[:-1].reshape(3, 3, C, F1).transpose(3, 2, 0, 1),
        "b_conv1": dW1m[-1],
        "W_conv2": dW2m[:-1].reshape(3, 3, F1, F2).transpose(3, 2, 0, 1),
        "b_conv2": dW2m[-1],
        "W_fc": dWfc.reshape(H4, W4, F2, K).transpose(2, 0, 1, 3).reshape(F2 * H4 * W4, K),
        "b_fc": dbfc,
    }
    return loss, {k: np.ascontiguousarray(v) for k, v in grads.items()}
