"""Shared REST plumbing: size-limited JSON, errors, throttles."""
