"""Pipeline stage "changes": what changed since the previous review run, and this run's saved state.

Living-review alerts say which *records* are new; a reader wants to know which *conclusions* moved. This
stage compares the run with the baseline state (:mod:`evidence_review.review.run_state`) and writes
``reports/changes.json``:

* ``new_records`` / ``updated_records`` / ``withdrawn_records`` - PMIDs of the search stream, by content
  hash: what the pull diffs between the two runs' pulls say (a refresh's ``diff.json``);
* ``newly_included`` / ``newly_excluded`` - study ids whose screening outcome changed;
* ``awaiting_screening`` - ids in the screening queue; ``awaiting_extraction`` - included studies found by
  a search that have no extraction rows yet (the curated studies were extracted from the evidence facts);
* ``provisional_claims`` - claims whose verdict could change once those studies are extracted (claims
  judged on study evidence: efficacy, onset, durability, safety, population, evidence base);
* ``verdict_changes`` - claim, old -> new verdict and certainty, and the studies that moved it (cited now
  and not before, or the reverse). A changed conclusion is the headline; new records alone are not.

It then saves this run's state next to the report, for the next run to compare with.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from evidence_review.atomic import atomic_write_text
from evidence_review.review import run_state

EVIDENCE_CATEGORIES = frozenset({"efficacy", "onset", "durability", "safety", "population", "evidence_base"})


def _ids(text: Any) -> list[str]:
    return [x.strip() for x in str(text or "").replace(",", ";").split(";") if x.strip()]


def _hash(rec: dict) -> str:
    from evidence_review.pubmed.store import content_hash

    return content_hash(rec)


def current_state(ctx: Any) -> dict[str, Any]:
    """This run's state: records, included set, queue, extraction coverage, verdicts."""
    run = ctx.facts["run_records"]
    table: pd.DataFrame = ctx.tables["records"]
    ident = ctx.facts.get("identification") or run.identification
    records = {}
    for rec in table.to_dict("records"):
        pmid = str(rec.get("pmid") or "")
        version = rec.get("version")
        records[rec["study_id"]] = {
            "pmid": pmid, "stream": rec.get("stream", ""),
            "version": None if version is None or pd.isna(version) else int(version),
            "hash": run.record_hashes.get(pmid) or _hash(rec),
        }
    extraction = ctx.tables.get("extraction")
    coverage = {} if extraction is None else {str(k): int(v) for k, v in extraction["study_id"].value_counts().items()}
    claims = ctx.tables.get("claims")
    verdicts = {}
    if claims is not None:
        for c in claims.to_dict("records"):
            verdicts[str(c["claim_id"])] = {"verdict": str(c["verdict"]), "certainty": str(c.get("certainty") or ""),
                                            "studies": sorted(_ids(c.get("studies"))), "category": str(c.get("category"))}
    return {
        "key": run_state.state_key(ident), "label": ident.get("label", ""), "date": str(ident.get("date", "")),
        "records": dict(sorted(records.items())),
        "included": sorted(table.loc[table["included"].astype(bool), "study_id"]),
        "queue": sorted(table.loc[table["queue_reason"].ne(""), "study_id"]) if "queue_reason" in table else [],
        "extraction": dict(sorted(coverage.items())), "verdicts": dict(sorted(verdicts.items())),
    }


def _curated_facts_ids(ctx: Any) -> set[str]:
    from evidence_review.stats.synthesis import known_study_ids

    return known_study_ids(studies_file=ctx.topic.files.studies) or set()


def compare(before: dict[str, Any] | None, now: dict[str, Any], curated_ids: set[str],
            claims: pd.DataFrame | None = None) -> dict[str, Any]:
    """changes.json content: ``now`` against the baseline state ``before`` (None on a first run)."""
    searched = {v["pmid"]: v for v in now["records"].values() if v.get("stream") == "databases" and v["pmid"]}
    extracted = set(now["extraction"])
    awaiting_extraction = sorted(s for s in now["included"] if s not in extracted and s not in curated_ids)
    provisional = sorted(c for c, v in now["verdicts"].items() if awaiting_extraction and v["category"] in EVIDENCE_CATEGORIES)
    out: dict[str, Any] = {
        "run": {"label": now["label"], "date": now["date"], "state": f"state/{now['key']}.json"},
        "since": None,
        "new_records": [], "updated_records": [], "withdrawn_records": [],
        "newly_included": [], "newly_excluded": [],
        "awaiting_screening": now["queue"], "awaiting_extraction": awaiting_extraction,
        "provisional_claims": provisional, "verdict_changes": [],
    }
    if before is None:
        out["headline"] = "first review run saved with this report: nothing to compare with"
        return out
    old = {v["pmid"]: v for v in before["records"].values() if v.get("stream") == "databases" and v["pmid"]}
    num = lambda p: (int(p), p) if p.isdigit() else (10**12, p)  # noqa: E731
    out["since"] = {"label": before.get("label", ""), "date": before.get("date", ""),
                    "state": f"state/{before.get('key', '')}.json"}
    out["new_records"] = sorted(set(searched) - set(old), key=num)
    out["withdrawn_records"] = sorted(set(old) - set(searched), key=num)
    out["updated_records"] = sorted((p for p in set(searched) & set(old) if searched[p]["hash"] != old[p]["hash"]), key=num)
    inc_before, inc_now = set(before.get("included", [])), set(now["included"])
    out["newly_included"] = sorted(inc_now - inc_before)
    out["newly_excluded"] = sorted(inc_before - inc_now)
    quotes = {} if claims is None else dict(zip(claims["claim_id"].astype(str), claims["quote"].astype(str)))
    for cid, v in now["verdicts"].items():
        w = before.get("verdicts", {}).get(cid)
        if w is None or (w["verdict"], w["certainty"]) == (v["verdict"], v["certainty"]):
            continue
        added = sorted(set(v["studies"]) - set(w["studies"]))
        dropped = sorted(set(w["studies"]) - set(v["studies"]))
        out["verdict_changes"].append({
            "claim_id": cid, "quote": quotes.get(cid, ""),
            "old": {"verdict": w["verdict"], "certainty": w["certainty"]},
            "new": {"verdict": v["verdict"], "certainty": v["certainty"]},
            "moved_by": added + dropped,
            "studies_added": added, "studies_dropped": dropped,
        })
    out["headline"] = headline(out)
    return out


def headline(ch: dict[str, Any]) -> str:
    vc = ch["verdict_changes"]
    if vc:
        first = vc[0]
        return (f"{len(vc)} conclusion(s) changed, e.g. {first['claim_id']}: {first['old']['verdict']} "
                f"({first['old']['certainty']}) -> {first['new']['verdict']} ({first['new']['certainty']})"
                + (f", moved by {', '.join(first['moved_by'])}" if first["moved_by"] else ""))
    words = {"new_records": "new record", "updated_records": "revised record", "withdrawn_records": "withdrawn record",
             "newly_included": "newly included report", "newly_excluded": "newly excluded report"}
    parts = [f"{len(ch[k])} {w}{'' if len(ch[k]) == 1 else 's'}" for k, w in words.items() if ch[k]]
    return "no conclusion changed" + (f" ({', '.join(parts)})" if parts else "")


def report_stage(ctx: Any) -> None:
    """Pipeline stage 'changes': reports/changes.json and reports/state/<key>.json."""
    now = current_state(ctx)
    before = ctx.facts.get("baseline")
    changes = compare(before, now, _curated_facts_ids(ctx), ctx.tables.get("claims"))
    path = ctx.reports / "changes.json"
    atomic_write_text(path, json.dumps(changes, indent=1, ensure_ascii=False) + "\n")
    ctx.written += [path, run_state.save(ctx.reports, now["key"], now)]
    ctx.facts["changes"] = changes
