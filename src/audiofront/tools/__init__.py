"""The tooling: the ``audiofront`` command and what it runs, apart from the library.

- `cli`: the command (``audiofront parity | bench | compare | show``, ``python -m audiofront``);
- `parity` (with `parity_worker`): the same numbers on JAX, PyTorch and TensorFlow?
- `bench` (a package): which backend and path is fastest?
- `compare`: the main job, parity of every layer then the speed comparison;
- `show`: a figure of what the front-end computes from a WAV file;
- `datasets` and `signals`: WAV files, the FSDD location, inputs for layers;
- `cases`: the shared table of layer cases; `reference`: librosa's answers;
- `backend`: compile, sync and autodiff per backend (the only backend-specific code);
- `progress`: progress display.

``import audiofront`` loads none of this. The tables and figures need the ``tools`` extra
(rich, matplotlib): ``pip install "audiofront[tools]"``.
"""
