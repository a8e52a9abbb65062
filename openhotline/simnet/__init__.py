"""A small simulated internet on loopback shared by tests, the demo and benchmarks.

``world``/``atlas``: the hosts, their providers and registrars; ``dns``, ``web``: name service
and sites; ``rdap``: who holds an address or domain; ``smtp`` + ``notices``: abuse desks that
act on notices; ``geo``: a .mmdb of the networks; ``state``: what notices changed; ``runner``:
``Simnet`` starts it all.

Nothing here ever binds or connects outside 127.0.0.0/8; the modules are importable without
Django configured (only the ``simnet`` management command needs Django).
"""
