"""Graph endpoints, one module per area. Importing this package imports every module in it, which registers
their endpoints: a new area is a new module here, with nothing else to edit."""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
