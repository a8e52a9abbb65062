"""Tracing: where reported content is hosted, and whom to tell.

Offline IP facts (`geoip`), abuse contacts over RDAP (`rdap`), and known CDNs and reverse
proxies whose abuse desks are asked to act or to reveal the origin (`cdn`).
"""
