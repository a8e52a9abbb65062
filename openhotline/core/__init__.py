"""Cross-cutting pieces: system checks, crypto for small secrets, client addresses, CLI."""
