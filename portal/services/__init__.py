"""Writes of the portal package. Every function takes ``actor`` and writes an audit event."""
