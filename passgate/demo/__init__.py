"""The demo relying party (``passgate demo-app``): an OpenID Connect client of Passgate that imports none of it."""
