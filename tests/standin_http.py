"""Shared ground of the loopback stand-ins (E-utilities, ClinicalTrials.gov): a request handler that
stays quiet when a client hangs up mid-request, as the fault tests make clients do on purpose."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler


class QuietHandler(BaseHTTPRequestHandler):
    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError, OSError, ValueError):
            pass

    def finish(self) -> None:
        try:
            super().finish()
        except (ConnectionResetError, BrokenPipeError, OSError, ValueError):
            pass
