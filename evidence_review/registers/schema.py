"""Declared schemas of the registry side of the store and of the registrations table."""

from __future__ import annotations

# Registry tables in the evidence store (store.sqlite). Pulls share the ``pulls`` table with PubMed pulls
# (kind 'registry_pull' / 'registry_refresh', query = the search parameters as JSON).
REGISTRY_DDL = """
CREATE TABLE IF NOT EXISTS registry_studies (
    nct_id TEXT PRIMARY KEY,
    last_update TEXT,                  -- statusModule.lastUpdatePostDateStruct.date of the current version
    content_hash TEXT NOT NULL,
    data TEXT NOT NULL,                -- the study JSON as the API returned it
    first_pull_id TEXT NOT NULL,
    last_pull_id TEXT NOT NULL,
    withdrawn INTEGER NOT NULL DEFAULT 0   -- the search no longer returns it
);
CREATE TABLE IF NOT EXISTS registry_versions (
    nct_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,        -- a moved lastUpdatePostDate (or any edit) gives a new version
    last_update TEXT,
    data TEXT NOT NULL,
    first_pull_id TEXT NOT NULL,
    PRIMARY KEY (nct_id, content_hash)
);
CREATE TABLE IF NOT EXISTS registry_pages (
    pull_id TEXT NOT NULL,
    phase TEXT NOT NULL,               -- 'studies' (pull), 'ids' / 'updated' / 'fetch' (refresh)
    page_index INTEGER NOT NULL,
    page_token TEXT,                   -- the token this page was asked for with (NULL: first page)
    next_token TEXT,                   -- nextPageToken of the reply (NULL: last page of the phase)
    file TEXT NOT NULL,                -- relative to the store folder
    sha256 TEXT NOT NULL,
    n_bytes INTEGER NOT NULL,
    n_studies INTEGER NOT NULL,
    total_count INTEGER,
    fetched_utc TEXT NOT NULL,
    PRIMARY KEY (pull_id, phase, page_index)
);
CREATE TABLE IF NOT EXISTS registry_members (
    pull_id TEXT NOT NULL,
    nct_id TEXT NOT NULL,
    content_hash TEXT,                 -- NULL: listed (ids phase) but not fetched in this pull
    PRIMARY KEY (pull_id, nct_id)
);
"""

REGISTRY_PULL_KINDS = ("registry_pull", "registry_refresh")

# The registrations table: one row per registered trial (current version), built by registers.table.
REGISTRATION_COLUMNS: tuple[str, ...] = (
    "nct_id",                   # NCT######## (ClinicalTrials.gov); other registries' ids in registry_id
    "title",                    # briefTitle
    "conditions",               # "; "-joined conditionsModule.conditions
    "interventions",            # "; "-joined intervention names (type in brackets)
    "phase",                    # "; "-joined designModule.phases (e.g. PHASE2)
    "study_type",               # INTERVENTIONAL / OBSERVATIONAL / EXPANDED_ACCESS
    "allocation",               # RANDOMIZED / NON_RANDOMIZED / NA
    "masking",                  # NONE / SINGLE / DOUBLE / TRIPLE / QUADRUPLE
    "enrollment",               # int or empty
    "enrollment_type",          # ACTUAL / ESTIMATED
    "overall_status",           # COMPLETED / RECRUITING / TERMINATED / ...
    "start_date",               # as precise as the registry gives it (YYYY-MM or YYYY-MM-DD)
    "primary_completion_date",
    "completion_date",
    "results_posted",           # yes / no / unclear (offline records whose sources disagree)
    "last_update",              # lastUpdatePostDate
    "linked_reports",           # "; "-joined report ids (PMID:…, or study ids of curated links)
    "registry",                 # ClinicalTrials.gov, IRCT, ReBEC ...
    "registry_id",              # the registry's own id (= nct_id for ClinicalTrials.gov)
    "source",                   # where the row came from: a pull id, or the offline snapshot file
)
