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
        """Return a dataset-wide named graph: authorities, ontology, validation, build."""
        return URIRef(f"{self.base}graph/{name}")

    def description(self, resource: URIRef, extension: str | None = None) -> str:
        """Return the document URL describing ``resource`` ({base}doc/..., optionally with extension)."""
        text = str(resource)
        prefix = self.base + "id/"
        if not text.startswith(prefix):
            raise ValueError(f"{text} is not a resource under {prefix}")
        url = self.base + "doc/" + text[len(prefix):]
        return f"{url}.{extension}" if extension else url

    def split(self, uri: str) -> tuple[str, str] | None:
        """Return (kind, slug) for a resource URI minted here, or None."""
        prefix = self.base + "id/"
        if not uri.startswith(prefix):
            return None
        parts = uri[len(prefix):].split("/")
        if len(parts) != 2 or parts[0] not in KINDS or not is_slug(parts[1]):
            return None
        return parts[0], parts[1]
