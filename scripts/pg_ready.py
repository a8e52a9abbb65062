"""Exit 0 if the PostgreSQL server of the URL in argv[1] accepts a connection."""

import sys
from urllib.parse import urlsplit

import psycopg

parts = urlsplit(sys.argv[1])
try:
    psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or "",
        dbname="postgres",
        connect_timeout=3,
    ).close()
except psycopg.Error:
    sys.exit(1)
