"""Counter-based random numbers written against ``keras.ops``: the same draws on JAX, PyTorch
and TensorFlow, traced without graph breaks.

Each draw hashes ``(key, counter, stream, element index)`` with Chris Wellons' ``triple32``,
a bijective 32-bit integer hash, computed on int32 tensors whose multiplications wrap (as
they do on every backend; the tests check the bits against a numpy ``uint32`` reference):

- ``key``: from the layer's seed (`seed_key`);
- ``counter``: an int32 variable of the layer, one more after each training call;
- ``stream``: which draw of the call (noise samples, gains, masks, ...), a Python int;
- the element's position in the drawn shape.

Uniform draws take the top 24 bits (exact float32 steps of ``2**-24`` in ``[0, 1)``); normal
draws use Box-Muller on two of them. Nothing here touches a backend's own generator, so a
random layer compiles like any other op (``torch.compile`` included) and an augmented
training run is reproducible across backends.

Example:

>>> import numpy as np
>>> key = seed_key(42)
>>> u = ops.convert_to_numpy(uniform((2, 3), key, counter=0, stream=0))
>>> u.shape, bool((u >= 0).all() and (u < 1).all())
((2, 3), True)
>>> bool(np.array_equal(u, ops.convert_to_numpy(uniform((2, 3), key, counter=0, stream=0))))
True
"""

import math

import numpy as np
from keras import ops

__all__ = ["seed_key", "triple32", "random_bits", "uniform", "normal"]


def _int32(value):
    """The int32 with the low 32 bits of ``value`` (pure Python: it runs inside traced
    calls, where numpy would break ``torch.compile``'s graph)."""
    return ((value & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000


_M1, _M2, _M3 = _int32(0xED5AD4BB), _int32(0xAC4C1B51), _int32(0x31848BAB)
_GOLDEN = _int32(0x9E3779B9)


def _shift_right(x, bits):
    """Logical right shift of int32 bits (the arithmetic shift, its sign bits masked)."""
    return ops.bitwise_and(ops.right_shift(x, bits), (1 << (32 - bits)) - 1)


def triple32(x):
    """Chris Wellons' ``triple32`` integer hash on int32 tensors (bits as uint32)."""
    x = ops.bitwise_xor(x, _shift_right(x, 17))
    x = x * _M1
    x = ops.bitwise_xor(x, _shift_right(x, 11))
    x = x * _M2
    x = ops.bitwise_xor(x, _shift_right(x, 15))
    x = x * _M3
    return ops.bitwise_xor(x, _shift_right(x, 14))


def _triple32_numpy(x):
    x = np.asarray(x, np.uint64) & 0xFFFFFFFF
    for shift, multiplier in ((17, 0xED5AD4BB), (11, 0xAC4C1B51), (15, 0x31848BAB)):
        x = ((x ^ (x >> shift)) * multiplier) & 0xFFFFFFFF
    return int(x ^ (x >> 14))


def seed_key(seed):
    """The int32 key of an integer seed (a fresh random one for None)."""
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    return _int32(_triple32_numpy(int(seed) & 0xFFFFFFFF))


def random_bits(shape, key, counter, stream):
    """int32 random bits of ``shape`` (its entries may be tensors, for an unknown batch)
    for ``(key, counter, stream)``: independent for every element and every triple."""
    counter = ops.cast(counter, "int32")
    stream = _int32(stream * 0x85EBCA6B)  # wrapped in Python: a valid int32 constant
    base = triple32(ops.bitwise_xor(counter * _GOLDEN + stream, key))
    size = 1
    for dim in shape:
        size = size * dim
    index = ops.reshape(ops.arange(size, dtype="int32"), shape)
    return triple32(ops.bitwise_xor(index * _GOLDEN, base))


def uniform(shape, key, counter, stream, minval=0.0, maxval=1.0, dtype="float32"):
    """Uniform draws in ``[minval, maxval)`` (24-bit resolution)."""
    bits = _shift_right(random_bits(shape, key, counter, stream), 8)
    unit = ops.cast(bits, dtype) * (2.0**-24)
    if (minval, maxval) == (0.0, 1.0):
        return unit
    return minval + (maxval - minval) * unit


def normal(shape, key, counter, stream, dtype="float32"):
    """Standard normal draws (Box-Muller on two uniform draws; tails end at 5.8 sigma)."""
    bits = random_bits(shape, key, counter, stream)
    first = ops.cast(_shift_right(bits, 8), dtype) * (2.0**-24)
    second = ops.cast(_shift_right(triple32(bits), 8), dtype) * (2.0**-24)
    radius = ops.sqrt(-2.0 * ops.log1p(-first))  # 1 - first is in (0, 1]
    return radius * ops.cos((2.0 * math.pi) * second)
