"""Proactive search (issue 17): the crawler's decisions as plain, typed functions.

Scope, traps, robots.txt and links are pure logic with no Django and no network, so the
Scrapy spider (not written yet) and its scrapy-redis frontier can call them, and tests
can drive them with hostile input directly.
"""
