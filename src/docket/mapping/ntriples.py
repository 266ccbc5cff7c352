"""Write triples of rdflib terms as N-Triples directly, without an rdflib Graph or its serializer.

One line per triple, ``<s> <p> o .`` and a line feed, in UTF-8, with the xsd:string datatype left
implicit as RDF 1.1 does. In a literal, ``\\``, ``"``, LF and CR are escaped as N-Triples requires;
the other C0 control characters (tab excepted) and DEL are written as ``\\uXXXX``: the grammar
allows them raw, but escaped they cannot upset a tool that reads the output line by line. What
N-Triples cannot carry raises ValueError instead of producing a document Oxigraph would refuse: a
relative IRI or one holding a character IRIREF excludes, a blank node label outside plain ASCII
letters, digits, ``_``, ``-`` and ``.``, and a lone surrogate (UTF-8 has no encoding for it; the
mapping removes them from a record first, see ``text.cleaned``).
"""

from __future__ import annotations

import re
from typing import Iterable

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from docket.memo import Memo

Triple = tuple[Node, Node, Node]

_WRITTEN: Memo[str] = Memo(100_000)  # IRI -> its N-Triples form, for IRIs already checked
_IRI = re.compile(r'[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20<>"{}|^`\\]*')
_BNODE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")
_SPECIAL = re.compile('[\x00-\x08\x0a-\x1f"\\\\\x7f]')
_ESCAPES = {chr(c): f"\\u{c:04X}" for c in (*range(0x20), 0x7F)} | {
    "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}
_XSD_STRING = XSD.string


def ntriples(triples: Iterable[Triple]) -> bytes:
    """Return ``triples`` as an N-Triples document, one line per triple in the order given."""
    lines = [f"{_node(s)} {_iri(p)} {_literal(o) if isinstance(o, Literal) else _node(o)} .\n"
             for s, p, o in triples]
    text = "".join(lines)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # only lone surrogates fail to encode
        raise ValueError(f"N-Triples cannot carry the lone surrogate {text[exc.start]!r} in "
                         f"{_line_at(text, exc.start)!r}") from None


def _iri(term) -> str:
    if type(term) is URIRef:  # the same few thousand IRIs come again and again: checked once each
        return _WRITTEN.get_or(term, lambda: _checked_iri(term))
    return _checked_iri(term)


def _checked_iri(term) -> str:
    if not (isinstance(term, URIRef) and _IRI.fullmatch(term)):
        raise ValueError(f"{str(term)!r} is not an absolute IRI N-Triples can carry")
    return f"<{term}>"


def _node(term) -> str:
    if isinstance(term, URIRef):
        return _iri(term)
    if isinstance(term, BNode):
        if not _BNODE.fullmatch(term):
            raise ValueError(f"blank node label {str(term)!r} is not one N-Triples can carry")
        return f"_:{term}"
    raise ValueError(f"{term!r} cannot stand here: only an IRI or a blank node (or, as object, a literal) can")


def _literal(term: Literal) -> str:
    text = str(term)
    if _SPECIAL.search(text):
        text = _SPECIAL.sub(lambda m: _ESCAPES[m.group()], text)
    if term.language:
        return f'"{text}"@{term.language}'
    datatype = term.datatype
    if datatype is None or datatype == _XSD_STRING:
        return f'"{text}"'
    return f'"{text}"^^{_iri(datatype)}'


def _line_at(text: str, index: int) -> str:
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    return text[start:end if end >= 0 else len(text)]
