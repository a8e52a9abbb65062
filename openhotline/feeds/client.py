"""A member's local copy of a hotline feed, kept in sync over HTTP.

    python -m openhotline.feeds.client sync --url https://hotline.example \\
        --key-file KEYFILE --feed url-list --state DIR [--public-key PEM_FILE]
    python -m openhotline.feeds.client contains --state DIR --feed url-list URL...

and for programs: `with FeedCopy(DIR, "url-list") as copy: copy.contains(url)`. URL List
keys are URLs as the hotline normalises them (lower-case scheme and host, no default port,
no fragment).

Standalone on purpose: the standard library and `cryptography`, never Django, so a member
can copy this one file and run it. That is also why it is one file, over the ~500 lines
other modules keep to: split, it would be several files to copy and keep in step.

How it syncs. The first run downloads a snapshot, then the changes after the snapshot's
cursor, page by page, until the hotline says there are no more; later runs ask only for
the changes. Nothing is applied before it is checked: the Ed25519 signature of the page's
manifest (`X-Feed-Manifest`), the SHA-256 and length of the bytes exactly as served (gzipped
or not), and that the manifest describes the page asked for (feed, kind, a delta's
`from_seq` equal to the cursor sent, rows in order within `from_seq`..`to_seq`, their
count). A page that fails is an error that changes nothing. When the hotline refuses the
cursor (400 "cursor": it restored its database), the copy is rebuilt from a snapshot; the
old copy stays readable until the new one is complete. A snapshot's cursor may be behind
the feed (big feeds are served from a pre-generated file): the deltas catch up. Each
cursor is sent with its tag (the manifest's `to_tag`), so a hotline whose restored
database reused the number for other changes refuses it too. When a page's tier is not
the copy's (the member's Hash List licence changed), the copy is rebuilt from a snapshot
as well: deltas only carry the items that changed, so the others would keep the fields
of the old tier. 429 and 503 are retried after `Retry-After`, up to 4 times and 5
minutes; 401 and 403 stop with the hotline's own explanation.

The key. `--public-key` pins the hotline's published key (and is remembered in DIR).
Without it, the key is fetched once from /.well-known/openhotline-feed-key.pem and pinned
in DIR/feed-key.pem: trust on first use, with a warning and the key's fingerprint to
compare with the one the hotline publishes. A different key later is a failed check.

On disk: DIR/<feed>.sqlite3, SQLite from the standard library, rather than a JSON Lines
file of items and a JSON state file. The Hash List holds millions of items: a JSON Lines
copy would be rewritten whole (temporary file, fsync, rename) for every page of a few
thousand changes, and a program would have to load all of it to look one key up. Here a
page's changes and the new cursor are one transaction (write-ahead log, synchronous=FULL),
which gives the same all-or-nothing guarantee: a crash, a timeout, a cut-short body or a
bad signature leaves the last page committed, and the next run resumes from its cursor,
neither skipping nor repeating a change. Memory stays small: a download is spooled to a
temporary file in DIR and verified before it is read line by line; a snapshot fills a
scratch table in batches that replaces `items` in one transaction. A lookup is one index
probe, and programs can read while a sync writes. Tables: `items(key, data as JSON)` and a
one-row `state(feed, url, cursor, count, synced_at, tier, tag)`. DIR/<feed>.lock keeps a
second sync of the same copy out. The files are the member's to protect (the URL List is a list of
criminal content's addresses): the database is created readable by its owner only.
"""

import argparse
import base64
import binascii
import email.utils
import gzip
import hashlib
import http.client
import itertools
import json
import os
import re
import sqlite3
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

KEY_PATH = "/.well-known/openhotline-feed-key.pem"
PINNED_KEY = "feed-key.pem"
RETRIES = 4  # after a 429 or 503 ("preparing a snapshot")
WAIT_BUDGET = 300.0  # seconds of Retry-After per request; asked to wait longer, give up
SPOOL_IN_MEMORY = 8 * 1024 * 1024  # a download larger than this goes to a file in DIR
CHUNK = 64 * 1024
BATCH = 10_000  # snapshot rows per transaction into the scratch table
MAX_AGE_HOURS = 24.0  # a page signed longer ago than this is "feed not fresh"
# Signing times may step back this much between answers (several web servers' clocks).
CLOCK_SLACK = 60.0


class SyncError(Exception):
    """The sync stopped; the copy is as it was after the last page applied."""


class NotVerified(SyncError):
    """A download that does not match its signed manifest, or not the page asked for."""


class NotFresh(SyncError):
    """The newest page the hotline signed is older than the copy may be: the hotline is not
    answering, or someone between is serving old pages (freezing the copy)."""


class Refused(SyncError):
    def __init__(
        self, status: int, code: str, detail: str, message: str,
        problem: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.status, self.code, self.detail = status, code, detail
        self.problem = problem or {}  # the hotline's JSON answer (a refused cursor's reset)


# --- Checking what the hotline signed --------------------------------------------------


_PEM_KEY = re.compile(rb"-----BEGIN PUBLIC KEY-----\r?\n.+?-----END PUBLIC KEY-----", re.DOTALL)

Keys = dict[str, Ed25519PublicKey]  # by key id


def load_public_keys(pem: bytes) -> Keys:
    """Every key in a PEM file: one key, or the hotline's published file (the signing key,
    and during a rollover the next or previous one, each after a line naming its id)."""
    keys: Keys = {}
    for block in _PEM_KEY.findall(pem):
        try:
            key = serialization.load_pem_public_key(block)
        except ValueError:
            raise SyncError("the public key file holds a PEM block that is no public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SyncError("the public key is not an Ed25519 key")
        keys[key_id(key)] = key
    if not keys:
        raise SyncError("the public key file is not a PEM public key")
    return keys


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """The first key of a PEM file (the signing key of a published file)."""
    return next(iter(load_public_keys(pem).values()))


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw key, as the hotline shows it."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def key_id(key: Ed25519PublicKey) -> str:
    """How manifests name the key that signed them: the fingerprint's first 16 digits."""
    return fingerprint(key)[:16]


def verify_signed(signed: dict[str, Any], keys: Keys | Ed25519PublicKey) -> dict[str, Any]:
    """The signed fields, if one of the pinned keys signed them (the one the fields' key id
    names, if pinned); else NotVerified."""
    pinned = keys if isinstance(keys, dict) else {key_id(keys): keys}
    fields = {k: v for k, v in signed.items() if k not in ("signature", "algorithm")}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    named = pinned.get(str(fields.get("key_id")))
    try:
        if signed.get("algorithm") != "ed25519":
            raise ValueError
        signature = base64.b64decode(str(signed.get("signature")), validate=True)
    except (ValueError, binascii.Error):
        raise NotVerified("the manifest's signature does not verify with the pinned key") from None
    for key in [named] if named is not None else list(pinned.values()):
        try:
            key.verify(signature, canonical)
            return fields
        except InvalidSignature:
            continue
    raise NotVerified("the manifest's signature does not verify with the pinned key")


def verify(
    manifest: dict[str, Any], sha256: str, size: int, keys: Keys | Ed25519PublicKey
) -> dict[str, Any]:
    """The signed fields, if a pinned key signed them and they describe bytes with this
    digest and length; else NotVerified. The same check as the hotline's `verify-feed`."""
    fields = verify_signed(manifest, keys)
    if fields.get("sha256") != sha256 or fields.get("bytes") != size:
        raise NotVerified("the download does not match its manifest (changed or cut short)")
    return fields


def signed_time(fields: dict[str, Any]) -> datetime:
    """When the hotline signed it (its `signed_at`, an ISO time with a zone)."""
    try:
        when = datetime.fromisoformat(str(fields["signed_at"]))
    except (KeyError, ValueError):
        raise NotVerified("the manifest does not say when it was signed (signed_at)") from None
    if when.tzinfo is None:
        raise NotVerified("the manifest's signed_at has no time zone")
    return when


@dataclass(frozen=True)
class Manifest:
    feed: str
    kind: str
    format: str
    encoding: str
    from_seq: int
    to_seq: int
    count: int
    more: bool
    tier: str
    to_tag: str  # the fingerprint of the change at to_seq, sent back with the cursor
    from_tag: str  # the tag of from_seq, as the hotline knows it ("" if it keeps none)
    head_seq: int  # the feed's last change when the page was served
    signed_at: datetime  # when the hotline signed the page (as it served it)

    @classmethod
    def of(cls, fields: dict[str, Any]) -> "Manifest":
        try:
            made = cls(
                feed=str(fields["feed"]), kind=str(fields["kind"]), format=str(fields["format"]),
                encoding=str(fields.get("encoding", "identity")), from_seq=fields["from_seq"],
                to_seq=fields["to_seq"], count=fields["count"], more=fields["more"],
                tier=str(fields.get("tier", "")), to_tag=str(fields.get("to_tag", "")),
                from_tag=str(fields.get("from_tag", "")), head_seq=fields["head_seq"],
                signed_at=signed_time(fields),
            )  # fmt: skip
        except KeyError as missing:
            raise NotVerified(f"the manifest has no {missing}") from None
        numbers = (made.from_seq, made.to_seq, made.count, made.head_seq)
        if not all(type(n) is int and n >= 0 for n in numbers) or type(made.more) is not bool:
            raise NotVerified("the manifest's numbers are not whole numbers")
        for tag in (made.to_tag, made.from_tag):
            if tag and not re.fullmatch(r"[0-9a-f]{16}", tag):
                raise NotVerified("the manifest's cursor tag is not 16 hex digits")
        return made


# --- The local copy ---------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (key TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
    one INTEGER PRIMARY KEY CHECK (one = 1), feed TEXT NOT NULL, url TEXT NOT NULL,
    cursor INTEGER NOT NULL, count INTEGER NOT NULL, synced_at TEXT NOT NULL,
    tier TEXT NOT NULL DEFAULT '', tag TEXT NOT NULL DEFAULT '',
    signed_at TEXT NOT NULL DEFAULT ''
);
"""


@dataclass(frozen=True)
class State:
    feed: str
    url: str
    cursor: int
    count: int
    synced_at: str
    tier: str  # what the licence showed when the copy was made; "" if not known
    tag: str  # the cursor's tag; "" if the hotline gave none
    signed_at: str  # when the newest page applied was signed (ISO); "" if not known

    @property
    def signed(self) -> datetime | None:
        return datetime.fromisoformat(self.signed_at) if self.signed_at else None


class FeedCopy:
    """The local copy of one feed in `directory`. Reading is safe while a sync runs in
    another process; use one FeedCopy per thread."""

    def __init__(self, directory: str | Path, feed: str, *, create: bool = False) -> None:
        self.feed = feed
        self.path = Path(directory) / f"{feed}.sqlite3"
        if not create and not self.path.exists():
            raise SyncError(f"there is no copy of {feed} in {directory}; run sync first")
        if create:
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        if create:
            self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(state)")}
        for added in ("tier", "tag", "signed_at"):  # a copy made before they were kept
            if columns and added not in columns:
                self._db.execute(f"ALTER TABLE state ADD COLUMN {added} TEXT NOT NULL DEFAULT ''")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @property
    def state(self) -> State | None:
        """None until a first snapshot is complete."""
        row = self._db.execute(
            "SELECT feed, url, cursor, count, synced_at, tier, tag, signed_at FROM state"
        ).fetchone()
        return State(*row) if row else None

    @property
    def cursor(self) -> int | None:
        state = self.state
        return state.cursor if state else None

    @property
    def count(self) -> int:
        state = self.state
        return state.count if state else 0

    def contains(self, key: str) -> bool:
        return self._db.execute("SELECT 1 FROM items WHERE key = ?", (key,)).fetchone() is not None

    def get(self, key: str) -> Any:
        row = self._db.execute("SELECT data FROM items WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def items(self) -> Iterator[tuple[str, Any]]:
        """(key, data) in key order, read lazily."""
        for key, data in self._db.execute("SELECT key, data FROM items ORDER BY key"):
            yield key, json.loads(data)

    def _transaction(self, expected: int | None) -> None:
        """Begin writing, if the copy is still at `expected` (another sync may have moved
        it on while this one downloaded: then this page is not ours to apply)."""
        self._db.execute("BEGIN IMMEDIATE")
        if self.cursor != expected:
            self._db.execute("ROLLBACK")
            raise SyncError(f"{self.feed}: another sync moved the copy on; run again")

    def apply(self, changes: Iterable[tuple[str, str, str]], page: Manifest) -> None:
        """One delta page, all or nothing."""
        self._transaction(page.from_seq)
        try:
            count = self.count
            for op, key, data in changes:
                if op == "remove":
                    count -= self._db.execute("DELETE FROM items WHERE key = ?", (key,)).rowcount
                elif self._db.execute(
                    "INSERT OR IGNORE INTO items (key, data) VALUES (?, ?)", (key, data)
                ).rowcount:
                    count += 1
                else:
                    self._db.execute("UPDATE items SET data = ? WHERE key = ?", (data, key))
            self._db.execute(
                "UPDATE state SET cursor = ?, count = ?, synced_at = ?, tag = ?, tier = ?, "
                "signed_at = ?",
                (page.to_seq, count, _now(), page.to_tag, page.tier, page.signed_at.isoformat()),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def replace(
        self, changes: Iterable[tuple[str, str, str]], page: Manifest, url: str,
        expected: int | None,
    ) -> None:  # fmt: skip
        """A snapshot: filled into a scratch table, which becomes `items` in one
        transaction once complete; until then the old copy is untouched."""
        self._db.execute("DROP TABLE IF EXISTS items_new")
        self._db.execute(
            "CREATE TABLE items_new (key TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID"
        )
        try:
            rows = ((key, data) for _op, key, data in changes)
            while batch := list(itertools.islice(rows, BATCH)):
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO items_new VALUES (?, ?)", batch)
                self._db.execute("COMMIT")
            self._transaction(expected)
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._db.execute("DROP TABLE IF EXISTS items_new")
            raise
        try:
            (count,) = self._db.execute("SELECT count(*) FROM items_new").fetchone()
            self._db.execute("DROP TABLE items")
            self._db.execute("ALTER TABLE items_new RENAME TO items")
            self._db.execute(
                "INSERT OR REPLACE INTO state (one, feed, url, cursor, count, synced_at, tier, "
                "tag, signed_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",  # by name: see __init__
                (
                    self.feed,
                    url,
                    page.to_seq,
                    count,
                    _now(),
                    page.tier,
                    page.to_tag,
                    page.signed_at.isoformat(),
                ),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise


class _Lock:
    """One sync per copy: an exclusive lock on DIR/<feed>.lock, held for the run. (Each
    page also checks the cursor it started from, for filesystems where locks are void.)"""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = open(path, "a+b")  # noqa: SIM115 - closed in release()
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(self.handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.close()
            raise SyncError(f"another sync is running on {path.parent}") from None

    def release(self) -> None:
        self.handle.close()  # closing the file releases the lock


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _changes(body: IO[bytes], page: Manifest) -> Iterator[tuple[str, str, str]]:
    """(op, key, data as JSON) for each line, checked against the manifest: a snapshot
    only adds; a delta's changes rise strictly within from_seq..to_seq and end at to_seq;
    as many rows as the manifest counts."""
    stream: Iterable[bytes] = (
        gzip.GzipFile(fileobj=body, mode="rb") if page.encoding == "gzip" else body
    )
    last, count = page.from_seq, 0
    try:
        for line in stream:
            row = json.loads(line)
            count += 1
            if not isinstance(row, dict) or not isinstance(row.get("key"), str):
                raise NotVerified(f"line {count} is not a change")
            op, seq = row.get("op"), row.get("seq")
            if page.kind == "snapshot":
                if op != "add":
                    raise NotVerified(f"line {count} of the snapshot is not an addition")
            elif op not in ("add", "remove") or type(seq) is not int:
                raise NotVerified(f"line {count} is not a change")
            elif not last < seq <= page.to_seq:
                raise NotVerified(f"line {count} (change {seq}) is out of order for this page")
            else:
                last = seq
            yield op, row["key"], json.dumps(row.get("data"), sort_keys=True)
    except (OSError, EOFError, zlib.error, ValueError) as exc:  # bad gzip, bad JSON
        raise NotVerified(f"the download cannot be read ({exc})") from None
    if count != page.count:
        raise NotVerified(f"the download holds {count} rows, its manifest {page.count}")
    if page.kind == "delta" and last != page.to_seq:
        raise NotVerified(f"the page ends at change {last}, its manifest at {page.to_seq}")


# --- Talking to the hotline -------------------------------------------------------------


class Opener(Protocol):
    def open(self, fullurl: urllib.request.Request, /, *, timeout: float) -> Any: ...


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as an error naming the new address: the API key is never
    sent anywhere the member did not name."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Download:
    headers: Any
    body: IO[bytes]
    sha256: str
    size: int


class Hotline:
    def __init__(
        self, url: str, api_key: str, *, spool_dir: Path, opener: Opener | None = None,
        timeout: float = 60.0, sleep: Callable[[float], None] = time.sleep,
        accept_gzip: bool = True,
    ) -> None:  # fmt: skip
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.spool_dir = spool_dir
        self.opener = opener or urllib.request.build_opener(_NoRedirects)
        self.timeout, self.sleep, self.accept_gzip = timeout, sleep, accept_gzip

    def public_key_pem(self) -> bytes:
        download = self._download(self.url + KEY_PATH, authorised=False)
        with download.body:
            return download.body.read(64 * 1024)

    def fetch(self, feed: str, kind: str, query: dict[str, Any]) -> Download:
        path = f"/api/v1/feeds/{urllib.parse.quote(feed, safe='')}/{kind}"
        return self._download(f"{self.url}{path}?{urllib.parse.urlencode(query)}")

    def _download(self, url: str, *, authorised: bool = True) -> Download:
        response = self._open(url, authorised)
        spool = tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY, dir=str(self.spool_dir))  # noqa: SIM115
        digest, size = hashlib.sha256(), 0
        try:
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                spool.write(chunk)
                size += len(chunk)
        except (OSError, http.client.HTTPException) as exc:
            spool.close()
            raise SyncError(f"the download from {url} was cut short ({_reason(exc)})") from None
        finally:
            response.close()
        spool.seek(0)
        return Download(response.headers, spool, digest.hexdigest(), size)

    def _open(self, url: str, authorised: bool) -> Any:
        attempt, waited = 0, 0.0
        while True:
            request = urllib.request.Request(url)  # noqa: S310 (the member names the URL)
            if self.accept_gzip and authorised:
                request.add_header("Accept-Encoding", "gzip")
            if authorised:
                request.add_unredirected_header("Authorization", f"Bearer {self.api_key}")
            try:
                return self.opener.open(request, timeout=self.timeout)
            except urllib.error.HTTPError as error:
                with error:
                    if error.code not in (429, 503) or attempt >= RETRIES:
                        raise _refusal(url, error) from None
                    wait = _retry_after(error.headers.get("Retry-After"), attempt)
                    if waited + wait > WAIT_BUDGET:
                        raise _refusal(url, error, f" and asks to wait {wait:.0f} s") from None
                self.sleep(wait)
                attempt, waited = attempt + 1, waited + wait
            except (OSError, http.client.HTTPException) as exc:
                raise SyncError(f"cannot reach {url}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason) or type(reason).__name__


def _retry_after(value: str | None, attempt: int) -> float:
    if value is None:
        return float(2**attempt)
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return float(2**attempt)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _refusal(url: str, error: urllib.error.HTTPError, more: str = "") -> Refused:
    status = error.code
    if 300 <= status < 400:
        where = error.headers.get("Location", "?")
        said = f"the hotline redirects to {where}; use that address as --url"
        return Refused(status, "redirect", where, said)
    try:
        problem = json.loads(error.read(64 * 1024))
        code, detail = str(problem["error"]), str(problem["detail"])
    except (OSError, ValueError, KeyError, TypeError, http.client.HTTPException):
        problem, code, detail = {}, "", error.reason or ""
    said = f"{status}{f' {code}' if code else ''}{more}: {detail}"
    if status in (401, 403):
        return Refused(status, code, detail, f"the hotline refused this API key ({said})")
    return Refused(status, code, detail, f"the hotline answered {said} ({url})", problem)


# --- Syncing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    feed: str
    count: int
    cursor: int
    pages: int
    snapshots: int

    def __str__(self) -> str:
        pages = f"{self.pages} page{'s' if self.pages != 1 else ''}"
        return f"{self.feed}: {self.count:,} items at cursor {self.cursor:,} ({pages})"


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _write_atomically(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def trusted_keys(
    hotline: Hotline, directory: Path, public_key: str | Path | None,
    warn: Callable[[str], None] = _warn,
) -> Keys:  # fmt: skip
    """The keys pages may be signed with: the given file's (pinned in DIR from now on),
    else those pinned in DIR, else the hotline's published ones, fetched once and pinned.
    A file may hold several keys: during a rollover the hotline publishes the next key
    beside the signing one, and a page signed by either verifies."""
    pinned = directory / PINNED_KEY
    if public_key is not None:
        try:
            pem = Path(public_key).read_bytes()
        except OSError as exc:
            raise SyncError(f"cannot read the public key: {exc}") from None
        keys = load_public_keys(pem)
        held = load_public_keys(pinned.read_bytes()) if pinned.exists() else None
        if held is not None and set(held) != set(keys):
            warn(f"the keys in {public_key} replace those pinned in {pinned}")
        if held is None or set(held) != set(keys):
            _write_atomically(pinned, pem)
        return keys
    if pinned.exists():
        return load_public_keys(pinned.read_bytes())
    pem = hotline.public_key_pem()
    keys = load_public_keys(pem)
    prints = ", ".join(fingerprint(k) for k in keys.values())
    warn(
        f"no --public-key given: trusting the key{'s' if len(keys) > 1 else ''} "
        f"{hotline.url}{KEY_PATH} sent now (SHA-256 fingerprint {prints}) and pinning "
        f"{'them' if len(keys) > 1 else 'it'} in {pinned}; compare the fingerprint with "
        "the one your hotline publishes"
    )
    _write_atomically(pinned, pem)
    return keys


def trusted_key(
    hotline: Hotline, directory: Path, public_key: str | Path | None,
    warn: Callable[[str], None] = _warn,
) -> Ed25519PublicKey:  # fmt: skip
    """The first of `trusted_keys` (for programs written before rollovers)."""
    return next(iter(trusted_keys(hotline, directory, public_key, warn).values()))


def _checked(download: Download, keys: Keys, feed: str, kind: str, cursor: int) -> Manifest:
    """The page's manifest, if it is signed, matches the bytes and is what was asked."""
    header = download.headers.get("X-Feed-Manifest")
    if not header:
        raise NotVerified("the download has no signed manifest (X-Feed-Manifest)")
    try:
        signed = json.loads(base64.b64decode(header, validate=True))
        if not isinstance(signed, dict):
            raise ValueError
    except (ValueError, binascii.Error):
        raise NotVerified("the download's manifest is not base64 JSON") from None
    page = Manifest.of(verify(signed, download.sha256, download.size, keys))
    asked = (feed, kind, "jsonl", cursor if kind == "delta" else 0)
    if (page.feed, page.kind, page.format, page.from_seq) != asked:
        got = f"{page.feed} {page.kind} {page.format} from {page.from_seq}"
        raise NotVerified(f"the hotline sent {got}, not the {kind} from {asked[3]} asked for")
    # The signed encoding says how to read the bytes, whatever Content-Encoding says (a
    # pre-generated snapshot is a .gz file, sent as such to a client that did not ask).
    if page.encoding not in ("gzip", "identity") or page.to_seq < page.from_seq:
        raise NotVerified("the manifest does not describe a download this client can read")
    if page.kind == "delta" and page.more and page.to_seq == page.from_seq:
        raise NotVerified("the hotline says more changes follow but sent none")
    if page.head_seq < page.to_seq:
        raise NotVerified("the manifest's head is behind the page it describes")
    for name, signed_value in (("X-Feed-Cursor", str(page.to_seq)),
                               ("X-Feed-More", str(page.more).lower()),
                               ("X-Feed-Tag", page.to_tag)):  # fmt: skip
        if download.headers.get(name, signed_value) != signed_value:
            raise NotVerified(f"the {name} header disagrees with the signed manifest")
    return page


@dataclass
class Clock:
    """What the copy has seen the hotline sign, to refuse what comes from before it: the
    newest signing time accepted (pages and resets), and how old it may be."""

    newest: datetime | None
    max_age: float | None  # seconds; None: no limit
    now: Callable[[], datetime]

    def check(self, feed: str, signed_at: datetime) -> None:
        if self.newest is not None and signed_at < self.newest - timedelta(seconds=CLOCK_SLACK):
            raise NotVerified(
                f"{feed}: the hotline's answer was signed at {signed_at.isoformat()}, before "
                f"one already accepted ({self.newest.isoformat()}): a replayed old answer"
            )
        age = (self.now() - signed_at).total_seconds()
        if self.max_age is not None and age > self.max_age:
            raise NotFresh(
                f"{feed}: feed not fresh: the newest answer was signed {age / 3600:.1f} hours "
                f"ago (at most {self.max_age / 3600:g} allowed); the hotline may be serving "
                "old pages, someone between may be replaying them, or this clock is wrong"
            )
        if self.newest is None or signed_at > self.newest:
            self.newest = signed_at


def _moves_forward(page: Manifest, held: State, clock: Clock) -> None:
    """A delta page must carry on from the copy (its cursor and that cursor's tag), be
    signed no earlier than what the copy holds, and either move the copy forward or say,
    signed, that the feed's head is where the copy is."""
    if held.tag and page.from_tag and page.from_tag != held.tag:
        raise NotVerified(
            f"{page.feed}: the page starts from another history of cursor {held.cursor:,}"
        )
    clock.check(page.feed, page.signed_at)
    if page.to_seq == page.from_seq and page.head_seq != page.from_seq:
        raise NotVerified(
            f"{page.feed}: the page leaves the copy at {page.from_seq:,} though the feed's "
            f"head is {page.head_seq:,} (a withheld or replayed page)"
        )
    if not page.more and page.to_seq != page.head_seq:
        raise NotVerified(f"{page.feed}: the page stops short of the feed's head without "
                          "saying more follows")  # fmt: skip


def _reset_checked(refused: Refused, keys: Keys, feed: str, held: State, clock: Clock) -> None:
    """A refused cursor is believed only if the hotline signed the refusal, for this copy's
    cursor and tag, and no earlier than what the copy holds: an unsigned 400 would let
    anyone between roll the copy back to an old snapshot."""
    signed = refused.problem.get("reset")
    if not isinstance(signed, dict):
        raise NotVerified(
            f"{feed}: the refusal of cursor {held.cursor:,} is not signed; the copy is kept "
            f"({refused.detail})"
        )
    fields = verify_signed(signed, keys)
    said = (fields.get("kind"), fields.get("feed"), fields.get("cursor"), fields.get("tag"))
    if said != ("reset", feed, str(held.cursor), held.tag):
        raise NotVerified(f"{feed}: the signed refusal is not for this copy's cursor; kept")
    clock.check(feed, signed_time(fields))


def _snapshot_allowed(page: Manifest, held: State | None, reset: bool, clock: Clock) -> None:
    """A snapshot replaces the copy only if it is signed no earlier than what the copy
    holds and, unless the hotline signed that the copy's history is gone, the feed's head
    has not gone back behind the copy (its file may be behind: the deltas catch up)."""
    clock.check(page.feed, page.signed_at)
    if held is not None and not reset and page.head_seq < held.cursor:
        raise NotVerified(
            f"{page.feed}: a snapshot whose feed ends at {page.head_seq:,}, behind the copy's "
            f"cursor {held.cursor:,}, without a signed reset: refused (a rollback)"
        )


def sync(
    url: str, api_key: str, feed: str, directory: str | Path, *,
    public_key: str | Path | None = None, limit: int | None = None, accept_gzip: bool = True,
    opener: Opener | None = None, timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep, warn: Callable[[str], None] = _warn,
    max_age_hours: float | None = MAX_AGE_HOURS,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Result:  # fmt: skip
    """Bring the copy of `feed` in `directory` up to the hotline's latest change. A page
    signed more than `max_age_hours` ago is refused as not fresh (None or 0: no limit)."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    hotline = Hotline(
        url, api_key, spool_dir=directory, opener=opener, timeout=timeout, sleep=sleep,
        accept_gzip=accept_gzip,
    )  # fmt: skip
    keys = trusted_keys(hotline, directory, public_key, warn)
    lock = _Lock(directory / f"{feed}.lock")
    max_age = max_age_hours * 3600 if max_age_hours else None
    try:
        return _sync(hotline, keys, feed, directory, limit, warn, max_age, now)
    finally:
        lock.release()


def _sync(
    hotline: Hotline, keys: Keys, feed: str, directory: Path, limit: int | None,
    warn: Callable[[str], None], max_age: float | None, now: Callable[[], datetime],
) -> Result:  # fmt: skip
    with FeedCopy(directory, feed, create=True) as copy:
        state = copy.state
        if state is not None and state.url != hotline.url:
            raise SyncError(
                f"{directory} holds a copy of {feed} from {state.url}; use another --state "
                "directory for another hotline"
            )
        clock = Clock(state.signed if state is not None else None, max_age, now)
        pages = snapshots = 0
        more = True
        while more:
            held_state = copy.state
            cursor = held_state.cursor if held_state is not None else None
            reset = False
            if held_state is not None and cursor is not None:
                query: dict[str, Any] = {"cursor": cursor, "format": "jsonl"}
                query |= {"tag": held_state.tag} if held_state.tag else {}
                query |= {"limit": limit} if limit else {}
                try:
                    download = hotline.fetch(feed, "delta", query)
                except Refused as refused:
                    if (refused.status, refused.code) != (400, "cursor") or snapshots:
                        raise
                    _reset_checked(refused, keys, feed, held_state, clock)
                    reset = True
                    warn(
                        f"{feed}: the hotline refused cursor {cursor:,} ({refused.detail}); "
                        "downloading a new snapshot, the old copy stays until it is complete"
                    )
                else:
                    with download.body:
                        page = _checked(download, keys, feed, "delta", cursor)
                        _moves_forward(page, held_state, clock)
                        held = held_state.tier
                        # A copy made before tiers were kept ("") of a feed that shows
                        # everyone the same ("all") is what it would be anyway.
                        same = page.tier == held or (not held and page.tier == "all")
                        if same:
                            copy.apply(_changes(download.body, page), page)
                    if same:
                        pages, more = pages + 1, page.more
                        continue
                    if snapshots:
                        raise SyncError(f"{feed}: the licence's tier changed during this run")
                    warn(
                        f"{feed}: the hotline now shows the {page.tier or 'unnamed'} tier, the "
                        f"copy holds {held or 'an unknown'} tier; downloading a new snapshot, "
                        "the old copy stays until it is complete"
                    )
            download = hotline.fetch(feed, "snapshot", {"format": "jsonl"})
            with download.body:
                page = _checked(download, keys, feed, "snapshot", 0)
                _snapshot_allowed(page, held_state, reset, clock)
                copy.replace(_changes(download.body, page), page, hotline.url, cursor)
            pages, snapshots = pages + 1, snapshots + 1
        return Result(feed, copy.count, page.to_seq, pages, snapshots)


# --- Command line -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m openhotline.feeds.client",
        description="Keep a local copy of an OpenHotline member feed in sync.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("sync", help="download the changes since the last sync")
    run.add_argument("--url", required=True, help="the hotline, e.g. https://hotline.example")
    run.add_argument("--key-file", required=True, help="a file holding the API key (ohk_…)")
    run.add_argument("--feed", required=True, help="url-list, hash-list, keyword-list, …")
    run.add_argument("--state", required=True, help="the directory that holds the copy")
    run.add_argument("--public-key", help="the hotline's feed signing key (PEM) to pin")
    run.add_argument("--limit", type=int, help="changes per page (the hotline caps it)")
    run.add_argument("--no-gzip", action="store_true", help="do not ask for gzip")
    run.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    run.add_argument(
        "--max-age-hours", type=float, default=MAX_AGE_HOURS,
        help=f"fail if the hotline's newest signed answer is older (default {MAX_AGE_HOURS:g}; "
        "0: no limit)",
    )  # fmt: skip
    look = commands.add_parser("contains", help="exit 0 if every KEY is in the local copy")
    look.add_argument("--state", required=True)
    look.add_argument("--feed", required=True)
    look.add_argument("keys", nargs="+", metavar="KEY")
    args = parser.parse_args(argv)
    try:
        if args.command == "contains":
            with FeedCopy(args.state, args.feed) as copy:
                found = [copy.contains(k) for k in args.keys]
            for key, listed in zip(args.keys, found, strict=True):
                print(f"{'listed' if listed else 'not listed'}: {key}")
            return 0 if all(found) else 1
        try:
            api_key = Path(args.key_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SyncError(f"cannot read the key file: {exc}") from None
        if not api_key.startswith("ohk_"):
            raise SyncError(f"{args.key_file} does not hold an API key (ohk_…)")
        result = sync(
            args.url, api_key, args.feed, args.state, public_key=args.public_key,
            limit=args.limit, accept_gzip=not args.no_gzip, timeout=args.timeout,
            max_age_hours=args.max_age_hours,
        )  # fmt: skip
    except (SyncError, sqlite3.Error, OSError) as exc:  # OSError: the state directory
        print(f"{args.feed}: error: {exc}", file=sys.stderr)
        _say_where(args.state, args.feed)
        return 1
    print(result)
    return 0


def _say_where(directory: str, feed: str) -> None:
    try:
        with FeedCopy(directory, feed) as copy:
            state = copy.state
    except (SyncError, sqlite3.Error):
        return
    if state is not None:
        print(f"{feed}: the copy stays at cursor {state.cursor:,} ({state.count:,} items); "
              "run again to resume", file=sys.stderr)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
