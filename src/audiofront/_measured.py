"""Which STFT path is faster for a frozen kernel, per (backend, device): what
``implementation="auto"`` reads. Filled from `audiofront bench` runs, not guessed:

PLACEHOLDER
"""

FASTER_FROZEN_PATH = {}

# Where nothing was measured (a GPU, so far): the FFT path, which is also the more
# accurate of the two near the top_db floor (see the README's known limits).
UNMEASURED = "fft"
