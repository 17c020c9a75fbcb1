"""Watching the platform: service health probes, alert conditions and delivery, degradation
detection."""
