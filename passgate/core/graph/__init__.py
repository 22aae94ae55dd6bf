"""Microsoft Graph semantics, pure: error codes, the authorization matrix, OData query parsing, resource schemas.

The DRF adapter (``passgate.graph_api``) maps HTTP to these values and back; nothing here imports Django.
"""
