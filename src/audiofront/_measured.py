"""Which STFT path is faster for a frozen kernel, per (backend, device): what
``implementation="auto"`` reads. Filled from `audiofront bench` runs, not guessed.

CPU (Intel Xeon, 2 cores), 2026-11-21, MelSpectrogram(decibel=True) forward, median ms
of 3 after 1 warm-up, from

    audiofront bench --workload {speech,kapre} --no-peers --repeats 3 --warmup 1 \\
        -p implementation={conv,fft}

    workload  backend     mode       conv    fft
    speech    jax         compiled   15.7    3.8
    speech    jax         eager      23.0   19.2
    speech    torch       compiled   10.6    4.6
    speech    torch       eager      16.1    8.0
    speech    tensorflow  compiled    9.7    5.7
    speech    tensorflow  eager      20.9   21.1
    kapre     jax         compiled  236.6  236.3
    kapre     jax         eager     398.1  429.7
    kapre     torch       compiled  189.6  122.0
    kapre     torch       eager     297.4  343.3
    kapre     tensorflow  compiled  173.4  139.7
    kapre     tensorflow  eager     197.5  226.3

In the mode Keras runs by default (XLA for JAX and, in these numbers, TensorFlow; eager for
torch) the FFT path is faster or equal on both workloads except torch eager on the kapre
workload (1.15x slower), and 2x faster there on speech; geometric means of fft/conv:
jax 0.49, torch (eager) 0.76, tensorflow 0.77. So "fft" on every CPU backend.
"""

FASTER_FROZEN_PATH = {
    ("jax", "cpu"): "fft",
    ("torch", "cpu"): "fft",
    ("tensorflow", "cpu"): "fft",
}

# Where nothing was measured (a GPU, so far): the FFT path, which is also the more
# accurate of the two near the top_db floor (see the README's known limits).
UNMEASURED = "fft"
