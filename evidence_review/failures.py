"""Turn any exception that reaches the command line into an exit code and one sentence.

Why: a researcher who meets a full disk, a damaged store or a mistyped setting needs to know which file
or setting is at fault and what to do, not a Python traceback. The stages raise
:class:`~evidence_review.errors.InputError` (exit 2) and
:class:`~evidence_review.errors.EvidenceReviewError` (exit 1) where they know the context; this module
maps the families they do not catch (file system, SQLite, compression, XML, HTTP/URL, numbers) and
gives anything else a one-line "internal error" (the traceback is shown only with ``-v``).

Exit codes: 1 = the command failed (environment, network, disk, a damaged store); 2 = bad usage or
bad input (a path that is a folder, a file that is not what it should be, a bad setting).
"""

from __future__ import annotations

import errno
import gzip
import sqlite3
import zlib
from dataclasses import dataclass
from typing import Any

from evidence_review.errors import EvidenceReviewError, InputError


@dataclass(frozen=True)
class Failure:
    code: int  # 1 failure, 2 bad usage or input
    message: str  # one sentence: what went wrong, where, and what to do
    internal: bool = False  # a bug: worth a traceback under -v and a report


def _where(exc: OSError) -> str:
    names = [str(n) for n in (exc.filename, exc.filename2) if n]
    return " -> ".join(names) if names else "a file"


def _store_of(args: Any) -> str:
    store = getattr(args, "store", None)
    return f"the store {store}/store.sqlite" if store else "the database"


def _os_failure(exc: OSError) -> Failure:
    where = _where(exc)
    if isinstance(exc, IsADirectoryError):
        return Failure(2, f"{where} is a folder; give the path of a file")
    if isinstance(exc, NotADirectoryError):
        return Failure(2, f"{where}: part of this path is a file, not a folder; check the path")
    if isinstance(exc, FileExistsError):
        return Failure(2, f"{where} already exists as a file where a folder is needed; choose another path")
    if isinstance(exc, FileNotFoundError):
        return Failure(2, f"{where}: no such file or folder; check the path")
    if isinstance(exc, PermissionError):
        return Failure(1, f"{where}: permission denied; make it readable/writable for you or choose "
                          "another location")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return Failure(1, f"no space left on the device while writing {where}; free some space and run the "
                          "same command again (completed work is kept)")
    if exc.errno == errno.EROFS:
        return Failure(1, f"{where} is on a read-only file system; choose a writable location")
    if exc.errno == errno.ENAMETOOLONG:
        return Failure(2, f"{where}: the file name is too long; choose a shorter one")
    reason = exc.strerror or str(exc) or type(exc).__name__
    return Failure(1, f"{where}: {reason}; check the path and the disk")


def _sqlite_failure(exc: sqlite3.Error, args: Any) -> Failure:
    text = str(exc)
    low = text.lower()
    store = _store_of(args)
    if "full" in low:
        return Failure(1, f"no space left on the device while writing {store} ({text}); free some space and "
                          "run the same command again (completed batches are kept)")
    if "readonly" in low or "read-only" in low or "unable to open" in low or "permission" in low:
        return Failure(1, f"cannot write {store} ({text}); make the folder and file writable or choose "
                          "another --store")
    if "locked" in low or "busy" in low:
        return Failure(1, f"{store} is busy ({text}); another command is writing it: wait and run again")
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return Failure(1, f"{store} is damaged or not a store ({text}); restore it from a copy, or pull "
                          "again into a new --store folder")
    return Failure(1, f"{store}: database error ({text}); if it persists, pull again into a new --store folder")


def explain(exc: BaseException, args: Any = None) -> Failure:
    """The exit code and sentence for ``exc`` (``args``: the parsed command line, for context)."""
    if isinstance(exc, InputError):
        return Failure(2, str(exc))
    if isinstance(exc, EvidenceReviewError):
        return Failure(1, str(exc))
    if isinstance(exc, BrokenPipeError):
        return Failure(1, "the output was closed before everything was written (e.g. piped into `head`)")
    if isinstance(exc, sqlite3.Error):
        return _sqlite_failure(exc, args)
    if isinstance(exc, OSError) and not _is_network(exc):
        if isinstance(exc, gzip.BadGzipFile):
            return Failure(2, f"compressed data is damaged ({exc}); check the file with `gzip -t` or fetch "
                              "it again")
        return _os_failure(exc)
    if isinstance(exc, (zlib.error, EOFError)):
        return Failure(2, f"compressed data is damaged or cut short ({exc}); check the file with `gzip -t` "
                          "or fetch it again")
    if isinstance(exc, UnicodeError):
        return Failure(2, f"a file is not UTF-8 text ({exc}); save it as UTF-8 and run again")
    if isinstance(exc, MemoryError):
        return Failure(1, "out of memory; close other programs or work on a smaller input")
    net = _network_failure(exc)
    if net is not None:
        return net
    xml = _xml_failure(exc)
    if xml is not None:
        return xml
    if isinstance(exc, OverflowError):
        return Failure(2, f"a number is too large to compute with ({exc}); check the input values")
    return Failure(1, f"internal error: {type(exc).__name__}: {exc}. Run with -v for the traceback and "
                      "report it with the command you ran", internal=True)


def _is_network(exc: OSError) -> bool:
    try:
        import requests
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, requests.RequestException)


def _network_failure(exc: BaseException) -> Failure | None:
    try:
        import requests
    except ImportError:  # pragma: no cover
        return None
    if not isinstance(exc, requests.RequestException):
        return None
    bad_url = (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
               requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader)
    if isinstance(exc, bad_url):
        return Failure(2, f"bad URL or header ({exc}); check NCBI_EUTILS_URL / CTGOV_API_URL (an http(s) "
                          "address) and the other settings")
    return Failure(1, f"network error ({type(exc).__name__}: {exc}); check the connection and run the same "
                      "command again (completed work is kept)")


def _xml_failure(exc: BaseException) -> Failure | None:
    try:
        from lxml import etree
    except ImportError:  # pragma: no cover
        return None
    if isinstance(exc, etree.XMLSyntaxError):
        where = f"{exc.filename}, line {exc.lineno}" if getattr(exc, "filename", None) else f"line {exc.lineno}"
        return Failure(2, f"XML is not well-formed ({where}: {exc.msg}); check the file or fetch it again")
    if isinstance(exc, etree.LxmlError):
        return Failure(2, f"XML could not be read ({exc}); check the file")
    return None
