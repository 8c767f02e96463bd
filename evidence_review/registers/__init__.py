"""Trial registers: ClinicalTrials.gov (API v2) client, pulls/refreshes into the evidence store, and the
registrations table. Retrieval family: imports nothing from review, stats or claims."""
