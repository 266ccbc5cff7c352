"""Write how to cite a record (Chicago, BibTeX) and its schema.org description for the page head."""

from __future__ import annotations

import json
import re
from typing import Any

from docket.mapping import DATASET_TITLE

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def human_date(iso: str | None) -> str:
    """Write an ISO date as precisely as it is known: "20 June 1954", "June 1954", "1954"."""
    if not iso:
        return ""
    parts = iso.split("-")
    try:
        if len(parts) >= 3:
            return f"{int(parts[2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
        if len(parts) == 2:
            return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        return iso
    return parts[0]


def chicago_date(iso: str | None) -> str:
    """Chicago writes "June 20, 1954"."""
    if not iso:
        return "n.d."
    parts = iso.split("-")
    try:
        if len(parts) >= 3:
            return f"{MONTHS[int(parts[1]) - 1]} {int(parts[2])}, {parts[0]}"
        if len(parts) == 2:
            return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        return iso
    return parts[0]


def _names(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".?!" else text + "."


def chicago(view: dict[str, Any]) -> str:
    """Cite as a Chicago bibliography entry: creator, "title," date, archive citation, translator, dataset, URI."""
    parts = []
    if view["senders"]:
        parts.append(_sentence(_names([a["label"] for a in view["senders"]])))
    parts.append(f"\u201c{_sentence(view['title'])}\u201d")
    parts.append(_sentence(chicago_date(view["date"])))
    for citation in view["citations"]:
        parts.append(_sentence(citation))
    if view["translators"]:
        parts.append(_sentence("Translated by " + _names([a["label"] for a in view["translators"]])))
    parts.append(_sentence(DATASET_TITLE))
    parts.append(view["uri"] + ".")
    return " ".join(p for p in parts if p)


_BIBTEX_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
                   "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def bibtex_escape(text: str) -> str:
    return "".join(_BIBTEX_ESCAPES.get(c, c) for c in " ".join(text.split()))


def bibtex(view: dict[str, Any]) -> str:
    """Cite as a BibTeX ``@misc`` entry keyed by the record ID (organizations braced as one name)."""
    key = "docket:" + re.sub(r"[^A-Za-z0-9:.-]", "-", view["id"])
    fields: list[tuple[str, str]] = []
    if view["senders"]:
        fields.append(("author", " and ".join("{" + bibtex_escape(a["label"]) + "}" for a in view["senders"])))
    fields.append(("title", "{" + bibtex_escape(view["title"]) + "}"))
    if view["date"]:
        fields.append(("date", view["date"]))
        fields.append(("year", view["date"][:4]))
    notes = list(view["citations"])
    if view["translators"]:
        notes.append("Translated by " + _names([a["label"] for a in view["translators"]]))
    if notes:
        fields.append(("note", bibtex_escape(". ".join(n.rstrip(".") for n in notes))))
    fields.append(("howpublished", bibtex_escape(DATASET_TITLE)))
    fields.append(("url", view["uri"]))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}"


def _agent(a: dict[str, Any]) -> dict[str, Any]:
    kind = {"person": "Person", "organization": "Organization"}.get(a.get("kind", ""), "Thing")
    return {"@type": kind, "@id": a["uri"], "name": a["label"]}


def schema_org(view: dict[str, Any]) -> dict[str, Any]:
    """Describe the record with schema.org for search engines (the full RDF is at the alternates)."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": ["CreativeWork", "ArchiveComponent"],
        "@id": view["uri"],
        "url": view["page_url"],
        "identifier": view["id"],
        "name": view["title"],
        "isPartOf": {"@type": "Dataset", "@id": view["dataset"], "name": DATASET_TITLE},
    }
    if view["date"]:
        data["dateCreated"] = view["date"]
    if view["type"]:
        data["genre"] = view["type"]["label"]
    if view["summary"]:
        data["abstract"] = view["summary"]
    if view["senders"]:
        data["author"] = [_agent(a) for a in view["senders"]]
    if view["addressees"]:
        data["recipient"] = [_agent(a) for a in view["addressees"]]
    if view["translators"]:
        data["translator"] = [_agent(a) for a in view["translators"]]
    if view["languages"]:
        data["inLanguage"] = [lang["code"] or lang["label"] for lang in view["languages"]]
    if view["rights_uri"]:
        data["license"] = view["rights_uri"]
    if view["source_url"]:
        data["isBasedOn"] = view["source_url"]
    if view["citations"]:
        data["citation"] = view["citations"]
    about = [{"@id": a["uri"], "name": a["label"]} for a in view["subjects"]]
    if about:
        data["about"] = about
    mentions = [{"@id": a["uri"], "name": a["label"]} for a in view["mentions"]]
    if mentions:
        data["mentions"] = mentions
    return data


def script_json(data: Any) -> str:
    """Serialize JSON for a ``<script>`` element: ``<``, ``>`` and ``&`` escaped so text cannot end it."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
