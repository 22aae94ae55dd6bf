"""Devices: pure decisions about devices that sign people in (no Django; ADR 0001)."""
