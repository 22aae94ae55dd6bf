"""The device API: what a joined computer's agent (``passgate-device``) calls. JSON only, no cookies: a join is
authorised by an enrollment token, every later request by a device proof (``passgate.core.devices.proof``)."""
