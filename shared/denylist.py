"""Revoked tokens: a plain file of token ids (``jti``), one a line, each optionally followed
by ``# a comment``; blank and ``#`` lines are ignored. ``vetctl token revoke`` appends to
it; in Compose or Kubernetes it is a mounted file (a ConfigMap mounted as a directory).

Each process re-reads the file when it changes, looking at most once every
``CHECK_SECONDS`` (a ``stat``, on the first verification after that many seconds, never on
every call): a revoked token is refused within ``CHECK_SECONDS`` of the file being written.
A missing file is an empty list; a file that cannot be read keeps the list last read."""

import os
import time
from pathlib import Path

import structlog

from shared.config import ROOT

log = structlog.get_logger(__name__)
CHECK_SECONDS = 5.0
FILE_NAME = "token-deny-list"


def default_path():
    """``$VET_AUTH_DENY_LIST``, else ``<LOCAL_DIR or the project's .local>/token-deny-list``
    (the file ``vetctl token revoke`` writes and a local ``make up`` reads)."""
    if os.environ.get("VET_AUTH_DENY_LIST"):
        return Path(os.environ["VET_AUTH_DENY_LIST"])
    return Path(os.environ.get("LOCAL_DIR") or ROOT / ".local") / FILE_NAME


def path_from(config):
    """The deny list a service reads: config ``AUTH_DENY_LIST``, else ``default_path()``."""
    configured = config.get("AUTH_DENY_LIST")
    return Path(configured) if configured else default_path()


def parse(text):
    """The token ids in a deny list's text."""
    ids = set()
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            ids.add(entry.split()[0])
    return frozenset(ids)


class DenyList:
    """``jti in deny_list``: is this token id revoked? Reads ``path`` again when its
    modification time, size or inode changed, looking at most every ``check_seconds``
    (``monotonic`` is the clock that says when, replaceable in tests)."""

    def __init__(self, path, check_seconds=CHECK_SECONDS, monotonic=time.monotonic):
        self.path, self.check_seconds, self.monotonic = Path(path), check_seconds, monotonic
        self._ids: frozenset[str] = frozenset()
        self._seen, self._next_check = None, None
        self._refresh()

    def __contains__(self, jti):
        if self.monotonic() >= self._next_check:
            self._refresh()
        return jti in self._ids

    def __len__(self):
        return len(self._ids)

    def _refresh(self):
        self._next_check = self.monotonic() + self.check_seconds
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            if self._seen is not None:
                log.warning("auth.deny_list_gone", path=str(self.path))
            self._ids, self._seen = frozenset(), None
            return
        except OSError as exc:
            log.warning("auth.deny_list_unreadable", path=str(self.path), error=type(exc).__name__)
            return
        seen = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if seen == self._seen:
            return
        try:
            ids = parse(self.path.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            log.warning("auth.deny_list_unreadable", path=str(self.path), error=type(exc).__name__)
            return
        self._ids, self._seen = ids, seen
        log.info("auth.deny_list_read", path=str(self.path), revoked=len(ids))
