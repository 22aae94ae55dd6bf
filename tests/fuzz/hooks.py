"""Schemathesis hooks for tests/fuzz/test_graph_api.py (loaded by ``SCHEMATHESIS_HOOKS=tests.fuzz.hooks``).

The fuzzer calls with an app that holds every Graph permission; it must not delete, rewrite or re-key that app,
or every later request would answer 401 and test nothing. ``PASSGATE_FUZZ_PROTECTED`` lists the app's object
id and appId; a write whose path names either is never sent.
"""

from __future__ import annotations

import ast
import os
import threading
from typing import Any

import schemathesis

# CPython 3.11.7's ast module keeps its recursion depth in shared state: two threads parsing at once (schemathesis's
# two workers, each letting hypothesis describe its strategies' lambdas with ast.parse) can raise "SystemError: AST
# constructor recursion depth mismatch" (python/cpython#106905, fixed in later releases). Parse one at a time.
_parse = ast.parse
_parsing = threading.Lock()


def _one_at_a_time(*args: Any, **kwargs: Any) -> Any:
    with _parsing:
        return _parse(*args, **kwargs)


ast.parse = _one_at_a_time  # type: ignore[assignment]

PROTECTED = frozenset(v.lower() for v in os.environ.get("PASSGATE_FUZZ_PROTECTED", "").split(",") if v)


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    if case.method.upper() == "GET":
        return True
    values = (case.path_parameters or {}).values()
    return not any(isinstance(v, str) and v.strip().lower() in PROTECTED for v in values)
