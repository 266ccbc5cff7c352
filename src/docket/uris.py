"""Mint every URI Docket publishes; no other module assembles one.

Patterns (see docs/uri-policy.md): resources are ``{base}id/{kind}/{slug}``, their descriptions
``{base}doc/{kind}/{slug}[.ext]``, named graphs ``{base}graph/...``, the ontology ``{base}ontology#``.
Slugs come from the ID registry and the authority files, never from a content hash.
"""

from __future__ import annotations

import re

from rdflib import Namespace, URIRef
from slugify import slugify

from docket.config import Settings

KINDS = ("record", "agent", "place", "event", "topic", "type", "collection", "scheme", "dataset")
_SLUG = re.compile(r"^[a-z0-9]+(?:[-._][a-z0-9]+)*$")


def make_slug(text: str, max_length: int = 80) -> str:
    """Turn a name or title into a readable ASCII slug ("Zhou Enlai" -> "zhou-enlai")."""
    slug = slugify(text, max_length=max_length, word_boundary=True, save_order=True)
    return slug or "untitled"


def is_slug(text: str) -> bool:
    """Say whether ``text`` may stand as a path segment of a minted URI unchanged."""
    return bool(_SLUG.match(text))


class Minter:
    """Mint URIs under one base; build it once from the settings and pass it along."""

    def __init__(self, base: str):
        if not base.endswith("/"):
            base += "/"
        self.base = base
        self.ontology = Namespace(base + "ontology#")

    @classmethod
    def from_settings(cls, settings: Settings) -> "Minter":
        return cls(settings.base_uri)

    def resource(self, kind: str, slug: str) -> URIRef:
        """Return ``{base}id/{kind}/{slug}`` for one of ``KINDS``."""
        if kind not in KINDS:
            raise ValueError(f"unknown resource kind {kind!r}; kinds are {', '.join(KINDS)}")
        if not is_slug(slug):
            raise ValueError(f"{slug!r} is not a valid slug for a {kind} URI")
        return URIRef(f"{self.base}id/{kind}/{slug}")

    def record(self, record_id: str) -> URIRef:
        return self.resource("record", record_id)

    def agent(self, slug: str) -> URIRef:
        return self.resource("agent", slug)

    def place(self, slug: str) -> URIRef:
        return self.resource("place", slug)

    def event(self, slug: str) -> URIRef:
        return self.resource("event", slug)

    def topic(self, slug: str) -> URIRef:
        return self.resource("topic", slug)

    def doc_type(self, slug: str) -> URIRef:
        return self.resource("type", slug)

    def collection(self, slug: str) -> URIRef:
        return self.resource("collection", slug)

    def scheme(self, slug: str) -> URIRef:
        """Return a SKOS concept scheme, such as ``{base}id/scheme/document-types``."""
        return self.resource("scheme", slug)

    def dataset(self) -> URIRef:
        return URIRef(f"{self.base}id/dataset/docket")

    def fragment(self, resource: URIRef, name: str) -> URIRef:
        """Return a hash URI for a part of a resource's description (``{record}#event``)."""
        return URIRef(f"{resource}#{name}")

    def record_graph(self, record_id: str) -> URIRef:
        """Return the named graph that holds one record's triples."""
        return URIRef(f"{self.base}graph/record/{record_id}")

    def graph(self, name: str) -> URIRef:
        """Return a dataset-wide named graph: authorities, unreconciled, ontology, validation, build."""
        return URIRef(f"{self.base}graph/{name}")

    def context_graphs(self) -> tuple[str, ...]:
        """Return the graphs that label and type what a record links: authorities, unreconciled names, ontology."""
        return tuple(str(self.graph(name)) for name in ("authorities", "unreconciled", "ontology"))

    def description(self, resource: URIRef, extension: str | None = None) -> str:
        """Return the document URL describing ``resource`` ({base}doc/..., optionally with extension)."""
        text = str(resource)
        prefix = self.base + "id/"
        if not text.startswith(prefix):
            raise ValueError(f"{text} is not a resource under {prefix}")
        url = self.base + "doc/" + text[len(prefix):]
        return f"{url}.{extension}" if extension else url

    def ontology_document(self, extension: str | None = None) -> str:
        """Return the URL the ontology is served at: its namespace without the ``#`` (``{base}ontology``)."""
        url = self.base + "ontology"
        return f"{url}.{extension}" if extension else url

    def page(self, *segments: str, **query: str | int) -> str:
        """Return a page for people: ``page("browse", "year", "1954")``, ``page("search", q="Geneva")``.

        Pages (home, browse, search) are not resources: they may change, so nothing should cite them.
        """
        from urllib.parse import quote, urlencode

        url = self.base + "/".join(quote(s, safe="") for s in segments)
        params = {k: v for k, v in query.items() if v not in (None, "")}
        return f"{url}?{urlencode(params)}" if params else url

    def service(self, path: str) -> str:
        """Return a service URL under the base: ``service("oai")``, ``service("dumps/docket.nt.gz")``.

        Services (OAI-PMH, SPARQL, VoID, dumps, sitemaps) are endpoints, not resources.
        """
        return self.base + path.lstrip("/")

    def fragments(self, subject: str | None = None, predicate: str | None = None, object: str | None = None,
                  page: int | None = None) -> str:
        """Return a Triple Pattern Fragment's URL, ``{base}fragments?subject=&predicate=&object=&page=``.

        Parameters come in the search template's order and are encoded as RFC 6570's form-style
        expansion encodes them (``%20``, not ``+``), so the URL a client builds from the template is
        the URL linked here, and the page's metadata is about the URL the client asked for.
        """
        from urllib.parse import quote

        pairs = [(k, v) for k, v in (("subject", subject), ("predicate", predicate), ("object", object))
                 if v not in (None, "")]
        if page is not None:
            pairs.append(("page", str(page)))
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs)
        return f"{self.base}fragments?{query}" if query else f"{self.base}fragments"

    def fragments_template(self) -> str:
        """Return the fragments' Hydra search template (RFC 6570)."""
        return f"{self.base}fragments{{?subject,predicate,object}}"

    def fragments_dataset(self) -> str:
        """Return the IRI of the dataset the fragments belong to, as the fragments describe it."""
        return f"{self.base}fragments#dataset"

    def reconcile(self, *segments: str, **query: str) -> str:
        """Return the reconciliation service's URL: ``reconcile()``, ``reconcile("preview", id=uri)``."""
        return self.page("reconcile", *segments, **query)

    def split(self, uri: str) -> tuple[str, str] | None:
        """Return (kind, slug) for a resource URI minted here, or None."""
        prefix = self.base + "id/"
        if not uri.startswith(prefix):
            return None
        parts = uri[len(prefix):].split("/")
        if len(parts) != 2 or parts[0] not in KINDS or not is_slug(parts[1]):
            return None
        return parts[0], parts[1]


def iri(value: str) -> str:
    """Write an IRI for a SPARQL query; refuse one that could break out of ``<...>``."""
    if any(c in value for c in '<>"{}|^`\\ \n\r\t'):
        raise ValueError(f"not an IRI that can be queried: {value!r}")
    return f"<{value}>"
