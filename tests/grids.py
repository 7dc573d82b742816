"""Shape grids shared by the layer tests and the loop-version tests."""

import itertools


def fits(H, W, KH, KW, pad):
    return KH <= H + 2 * pad and KW <= W + 2 * pad


# (N, C, F, H, W, KH, KW, stride, pad): every stride, pad and kernel on two
# input sizes (7x5 is odd and non-square) and three batch/channel/filter counts.
CONV_GRID = [
    (N, C, F, H, W, KH, KW, stride, pad)
    for (N, C, F), (H, W), (KH, KW), stride, pad in itertools.product(
        [(1, 1, 1), (1, 3, 2), (3, 2, 4)],
        [(7, 5), (4, 6)],
        [(1, 1), (3, 3), (2, 3), (5, 5)],
        [1, 2, 3],
        [0, 1, 2],
    )
    if fits(H, W, KH, KW, pad)
]

# (N, C, H, W, pool_h, pool_w, stride, pad): 2x2/2, overlapping 3x3/2,
# non-square windows, stride 1, padding, and sizes that leave a remainder.
POOL_GRID = [
    (N, C, H, W, ph, pw, stride, pad)
    for (N, C), (H, W), (ph, pw, stride, pad) in itertools.product(
        [(1, 1), (3, 2)],
        [(7, 5), (6, 6), (5, 5)],
        [
            (2, 2, 2, 0), (3, 3, 2, 0), (2, 3, 2, 0), (3, 2, 1, 0), (2, 2, 1, 0),
            (2, 2, 2, 1), (3, 3, 2, 1), (2, 3, 1, 1), (3, 2, 3, 1), (3, 3, 1, 2),
        ],
    )
    if fits(H, W, ph, pw, pad)
]


def conv_id(case):
    N, C, F, H, W, KH, KW, s, p = case
    return f"N{N}C{C}F{F}-{H}x{W}-k{KH}x{KW}-s{s}p{p}"


def pool_id(case):
    N, C, H, W, ph, pw, s, p = case
    return f"N{N}C{C}-{H}x{W}-w{ph}x{pw}-s{s}p{p}"
