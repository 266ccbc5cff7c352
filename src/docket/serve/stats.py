"""Compute collection statistics once per build and keep them beside the store.

``build_statistics(store, path)`` runs when the build is made (``docket build`` calls it) and writes
``statistics.json`` into the build folder: records per year, per document type, correspondents with
what they sent and received, and the counts the home page shows. The server only reads the file,
so the home page and browse lists cost no aggregate query per request.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from docket.serve.describe import PREFIXES, run_query

FORMAT = 1

_IN_RECORD = "GRAPH ?g { ?r a rico:Record"


def _solutions(store, sparql: str, names: tuple[str, ...], union: bool = False) -> list[dict[str, str | None]]:
    result = run_query(store, PREFIXES + sparql, union)
    return [{name: (row[name].value if row[name] is not None else None) for name in names} for row in result]


def _labels(store, uris: list[str]) -> dict[str, str]:
    """Return one label per URI (English or untagged first), in batches."""
    labels: dict[str, str] = {}
    for start in range(0, len(uris), 500):
        batch = " ".join(f"<{u}>" for u in uris[start:start + 500])
        rows = _solutions(store, f"""SELECT ?s ?l (LANG(?l) AS ?lang) WHERE {{ VALUES ?s {{ {batch} }}
            ?s rdfs:label ?l }}""", ("s", "l", "lang"), union=True)
        rank = {"en": 0, "": 1}
        best: dict[str, tuple[int, str]] = {}
        for row in rows:
            r = rank.get(row["lang"] or "", 2)
            if row["s"] not in best or r < best[row["s"]][0]:
                best[row["s"]] = (r, row["l"] or "")
        labels.update({s: label for s, (_, label) in best.items()})
    return labels


def compute_statistics(store) -> dict[str, Any]:
    """Count what the build publishes (see the module docstring); ``store`` may be a build in progress."""
    years = _solutions(store, f"""SELECT ?y (COUNT(DISTINCT ?r) AS ?n) WHERE {{ {_IN_RECORD} ; dcterms:date ?d }}
        BIND(SUBSTR(STR(?d), 1, 4) AS ?y) }} GROUP BY ?y ORDER BY ?y""", ("y", "n"))
    total = _solutions(store, f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ {_IN_RECORD} }} }}", ("n",))
    undated = _solutions(store, f"""SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ {_IN_RECORD}
        FILTER NOT EXISTS {{ ?r dcterms:date ?d }} }} }}""", ("n",))
    types = _solutions(store, f"""SELECT ?t (COUNT(DISTINCT ?r) AS ?n) WHERE {{ {_IN_RECORD} ; dcterms:type ?t }} }}
        GROUP BY ?t ORDER BY DESC(?n)""", ("t", "n"))
    people: dict[str, dict[str, Any]] = {}
    for role, prop in (("sent", "rico:hasSender"), ("received", "rico:hasAddressee")):
        for row in _solutions(store, f"""SELECT ?a (COUNT(DISTINCT ?r) AS ?n) WHERE {{ {_IN_RECORD} ; {prop} ?a }} }}
                GROUP BY ?a""", ("a", "n")):
            entry = people.setdefault(row["a"] or "", {"uri": row["a"], "sent": 0, "received": 0})
            entry[role] = int(row["n"] or 0)
    # The kind is read off each linked IRI once, not once per record linking it (half the time).
    kinds = _solutions(store, f"""SELECT ?k (COUNT(*) AS ?n) WHERE {{
        {{ SELECT DISTINCT ?x WHERE {{ {_IN_RECORD} ; ?p ?x }} FILTER(isIRI(?x)) }} }}
        BIND(REPLACE(STR(?x), "^.*/id/([a-z]+)/[^/#]+$", "$1") AS ?k)
        FILTER(?k IN ("agent", "place", "event", "topic")) }} GROUP BY ?k""", ("k", "n"))
    labels = _labels(store, [t["t"] for t in types if t["t"]] + [p for p in people if p])
    correspondents = sorted(
        ({**p, "label": labels.get(p["uri"], p["uri"]), "total": p["sent"] + p["received"]} for p in people.values()),
        key=lambda p: (-p["total"], p["label"].casefold()),
    )
    year_counts = {row["y"]: int(row["n"] or 0) for row in years if row["y"]}
    return {
        "format": FORMAT,
        "records": int(total[0]["n"] or 0) if total else 0,
        "undated": int(undated[0]["n"] or 0) if undated else 0,
        "years": year_counts,
        "first_year": min(year_counts) if year_counts else None,
        "last_year": max(year_counts) if year_counts else None,
        "types": [{"uri": t["t"], "label": labels.get(t["t"] or "", t["t"]), "count": int(t["n"] or 0)} for t in types],
        "correspondents": correspondents,
        "linked": {row["k"]: int(row["n"] or 0) for row in kinds if row["k"]},
    }


def build_statistics(store, path: Path) -> dict[str, Any]:
    """Compute the statistics of ``store`` and write them to ``path`` (``<build>/statistics.json``)."""
    stats = compute_statistics(store)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(stats, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return stats


def write_site_files(folder: Path) -> dict[str, Any]:
    """Write the search index, resource index and statistics of the build in ``folder`` (its store complete, closed).

    Meant for ``BuildWriter.commit(before_switch=...)``: the files then publish with the build, and
    the server never sees a build without them. Returns the statistics.
    """
    from docket.serve.published import RESOURCE_INDEX, SEARCH_INDEX, STATISTICS
    from docket.serve.resource_index import build_resource_index
    from docket.serve.search import build_search_index
    from docket.store import OxigraphStore
    from docket.store.layout import OXIGRAPH

    folder = Path(folder)
    with OxigraphStore.open(folder / OXIGRAPH, read_only=True) as store, ThreadPoolExecutor(max_workers=1) as pool:
        def search_and_statistics() -> dict[str, Any]:
            build_search_index(store, folder / SEARCH_INDEX)
            return build_statistics(store, folder / STATISTICS)

        # The resource index takes longest; the rest runs beside it (Oxigraph and SQLite let go of the GIL).
        statistics = pool.submit(search_and_statistics)
        build_resource_index(store, folder / RESOURCE_INDEX)
        return statistics.result()
