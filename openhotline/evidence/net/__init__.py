"""Fetching hostile URLs safely: address policy, the platform's resolver, the fetcher."""

from .fetcher import FetchLimits, FetchResult, Hop, SafeFetcher
from .policy import check_address, check_name
from .resolver import ErrorKind, Resolution, resolve

__all__ = [
    "ErrorKind",
    "FetchLimits",
    "FetchResult",
    "Hop",
    "Resolution",
    "SafeFetcher",
    "check_address",
    "check_name",
    "resolve",
]
