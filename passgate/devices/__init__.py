"""Computers joined to the directory: the registry, enrollment tokens, device proofs (see passgate.core.devices)."""
