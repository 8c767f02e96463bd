"""Retrieval: the E-utilities client, pull/refresh, the SQLite store, the PubMed XML parser."""
