"""Newsgroups (issue 17, foundation): decoding binary posts and reading them over NNTP.

Not wired into cases, captures or takedown yet; see docs/architecture.md.
"""
