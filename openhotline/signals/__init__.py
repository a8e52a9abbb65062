"""Signals: the hashes OpenHotline computes, stores and matches media by."""
