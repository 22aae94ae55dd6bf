"""Passgate's functional core: pure Python, no Django, no I/O, no clock.

Values in, frozen dataclasses out. Every rejection is a :class:`passgate.core.errors.PassgateError`
subclass carrying a machine-readable reason code; adapters map it once at each edge.
"""
