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

# CPython 3.11.7's ast module miscounts its recursion depth when it is entered from a deep Python stack (and shares
# that count between threads): hypothesis describing a strategy's lambda with ast.parse, deep inside schemathesis's
# generation, then raises "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905, fixed in
# later releases). Parse on a fresh thread (a shallow stack), one parse at a time; should it still fail, say
# SyntaxError, on which hypothesis only describes the lambda as "<unknown>".
_parse = ast.parse
_parsing = threading.Lock()


def _one_at_a_time(*args: Any, **kwargs: Any) -> Any:
    outcome: dict[str, Any] = {}

    def parse() -> None:
        try:
            outcome["tree"] = _parse(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            outcome["error"] = exc

    with _parsing:
        worker = threading.Thread(target=parse, name="ast-parse")
        worker.start()
        worker.join()
    error = outcome.get("error")
    if isinstance(error, SystemError):
        raise SyntaxError(f"not parsed: {error}") from error
    if error is not None:
        raise error
    return outcome["tree"]


ast.parse = _one_at_a_time  # type: ignore[assignment]

PROTECTED = frozenset(v.lower() for v in os.environ.get("PASSGATE_FUZZ_PROTECTED", "").split(",") if v)


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    if case.method.upper() == "GET":
        return True
    values = (case.path_parameters or {}).values()
    return not any(isinstance(v, str) and v.strip().lower() in PROTECTED for v in values)
