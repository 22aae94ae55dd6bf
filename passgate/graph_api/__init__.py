"""The Microsoft-Graph-compatible REST API (DRF adapter) and the OAuth 2.0 token endpoint.

Views are thin: parse with ``passgate.core.graph`` (OData, schemas), authorize with ``core.graph.authz``, call one
service or selector, render Graph's JSON. Every endpoint is one decorated function in ``views/`` registered in
``registry.py``; URLs (``/v1.0/`` and ``/beta/``) and ``/openapi.json`` are generated from that registry.
"""
