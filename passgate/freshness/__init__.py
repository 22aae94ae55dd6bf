"""Reading what a request needs once, and knowing cheaply whether the configuration changed (issue 11).

- :mod:`passgate.freshness.memo`: a per-request memo (a person's groups, roles and passkeys, the configuration's
  generation), valid until the request's next write statement and never inside a transaction.
- :mod:`passgate.freshness.generation`: one counter that database triggers bump on every write to the methods
  policy, strengths, Conditional Access, FIDO metadata, app registrations and signing keys; per-process caches of
  those are kept while it is unchanged. One statement per request says whether anything changed, on any node.
"""
