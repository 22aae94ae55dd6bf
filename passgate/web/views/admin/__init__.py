"""The admin centre: server-rendered pages for signed-in administrators.

Every page needs a signed-in person holding at least one directory role; each page and each change checks the
operation it needs with ``passgate.core.graph.authz`` (the registry the Graph API uses), so the admin centre and the
API agree on who may do what. Changes go through the existing services with the administrator as the actor; policy
forms are turned into Graph PATCH bodies so the core validates them exactly as it validates the API's.
"""
