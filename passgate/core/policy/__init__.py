"""The authentication methods policy: Graph v1.0 shapes, PATCH semantics, audit diffs and decisions.

- :mod:`~passgate.core.policy.model`: the policy as frozen dataclasses, and Passgate's defaults.
- :mod:`~passgate.core.policy.graph`: Graph JSON out (``to_graph``) and PATCH bodies in (``apply_patch``); it
  re-exports ``_graph_write`` (JSON out) and reads bodies with ``_graph_read`` and ``_graph_profiles``.
- :mod:`~passgate.core.policy.diff`: the settings a change changed, for the audit row.
- :mod:`~passgate.core.policy.evaluate`: may this person add or use this passkey, must they add one, ...
- :mod:`~passgate.core.policy.errors`: :class:`PolicyValidationError`, with the JSON path it is about.
"""
