#!/usr/bin/env python3
"""Error of engine::detmath against 60-digit mpmath, in ulps of the exact result.

    DETMATH_DUMP=/tmp/dump.txt cargo test --release -p engine detmath::tests::dump -- --ignored
    python3 engine/src/detmath/accuracy.py /tmp/dump.txt

Each line of the dump: function (`.platform` for the platform libm's result, for comparison),
x and y (hex bits), result (hex bits). Prints, per function,
the largest error in ulps, the share of correctly rounded results, and the worst argument.
"""
import struct
import sys

import mpmath
from mpmath import mp, mpf

mp.dps = 60

FUNCS = {
    "exp": lambda x, y: mpmath.exp(x),
    "ln": lambda x, y: mpmath.log(x),
    "ln_1p": lambda x, y: mpmath.log1p(x),
    "exp_m1": lambda x, y: mpmath.expm1(x),
    "powf": lambda x, y: mpmath.power(x, y),
}


def f64(h):
    return struct.unpack("<d", struct.pack("<Q", int(h, 16)))[0]


def ulp(v):
    """The ulp of the double binade holding the exact value v (subnormal spacing below)."""
    if v == 0:
        return mpf(2) ** -1074
    _, e = mpmath.frexp(abs(v))  # |v| = m·2^e, m in [0.5, 1)
    return mpf(2) ** max(e - 53, -1074)


stats = {}
for line in open(sys.argv[1]):
    name, xs, ys, rs = line.split()
    x, y, r = f64(xs), f64(ys), f64(rs)
    exact = FUNCS[name.split(".")[0]](mpf(x), mpf(y))
    if mpmath.isinf(r) or abs(exact) > mpf("1.7976931348623157e308") or abs(exact) < mpf(2) ** -1022:
        continue  # overflow and the subnormal range are checked by the tests
    err = abs(mpf(r) - exact) / ulp(exact)
    n, worst, arg, cr = stats.get(name, (0, mpf(0), None, 0))
    if err > worst:
        worst, arg = err, (x, y)
    stats[name] = (n + 1, worst, arg, cr + (float(exact) == r))

for name, (n, worst, arg, cr) in stats.items():
    print("%-7s %8d args  max error %.4f ulp  correctly rounded %.4f%%  worst at %r" % (
        name, n, worst, 100.0 * cr / n, arg))
