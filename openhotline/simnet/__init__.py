"""A small simulated internet on loopback (DNS + web) shared by tests, the demo and benchmarks.

Nothing here ever binds or connects outside 127.0.0.0/8; the modules are importable without
Django configured (only the ``simnet`` management command needs Django).
"""
