"""The audiofront layers, each a ``keras.layers.Layer`` written against ``keras.ops``.

One module per layer; which layers there are is `audiofront.catalog.LAYERS`.
"""

import importlib

from audiofront.catalog import LAYERS

for _name, _entry in LAYERS.items():
    globals()[_name] = getattr(importlib.import_module(f"{__name__}.{_entry.module}"), _name)

__all__ = list(LAYERS)
