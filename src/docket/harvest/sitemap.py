"""Write sitemaps for search engines: an index (``sitemap.xml``) and pages of at most 50,000 URLs.

The URLs are the pages people read: the home page, every published record's description
(``{base}doc/record/{id}``, ``lastmod`` its modification time) and every agent, place, event, topic,
document type and collection described (no ``lastmod``: their pages change with the records that
name them, which no single time records). Withdrawn records are left out: they answer 410 Gone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from lxml import etree

from docket.index_files import write_durably
from docket.store import Manifest
from docket.store.layout import fsync_dir
from docket.uris import Minter

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
FOLDER = "sitemaps"
INDEX_NAME = "sitemap.xml"
MAX_URLS = 50_000  # the sitemap protocol's limit per file
ENTITY_KINDS = ("agent", "place", "event", "topic", "type", "collection")


def page_name(n: int) -> str:
    return f"sitemap-{n}.xml"


def sitemap_urls(store: Any, manifest: Manifest, minter: Minter) -> list[tuple[str, str | None]]:
    """Return (URL, lastmod or None) for every page the sitemaps list, in a stable order."""
    urls: list[tuple[str, str | None]] = [(minter.base, manifest.created)]
    for rid, entry in sorted(manifest.records.items()):
        urls.append((minter.description(minter.record(rid)), entry.modified))
    space = minter.base + "id/"
    # Every entity with a page is described in the authorities or the unreconciled names' graph (a
    # record graph only says more of one): two small graphs to read, not every quad of the build.
    described = " ".join(f"<{minter.graph(name)}>" for name in ("authorities", "unreconciled"))
    rows = store.query(f"SELECT DISTINCT ?s WHERE {{ VALUES ?g {{ {described} }} GRAPH ?g {{ ?s ?p ?o }} "
                       f"FILTER(ISIRI(?s) && STRSTARTS(STR(?s), \"{space}\")) }}")
    entities = sorted({row["s"].value for row in rows})
    for uri in entities:
        split = minter.split(uri)
        if split is not None and split[0] in ENTITY_KINDS:
            urls.append((minter.description(minter.resource(*split)), None))
    return urls


def _document(tag: str) -> etree._Element:
    return etree.Element(f"{{{SITEMAP_NS}}}{tag}", nsmap={None: SITEMAP_NS})


def _add(parent: etree._Element, tag: str, loc: str, lastmod: str | None) -> None:
    node = etree.SubElement(parent, f"{{{SITEMAP_NS}}}{tag}")
    etree.SubElement(node, f"{{{SITEMAP_NS}}}loc").text = loc
    if lastmod:
        etree.SubElement(node, f"{{{SITEMAP_NS}}}lastmod").text = lastmod


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def render(urls: list[tuple[str, str | None]], minter: Minter, created: str,
           per_page: int = MAX_URLS) -> dict[str, bytes]:
    """Return {file name: XML} for the index and its pages.

    The schema wants at least one URL per page (``sitemap_urls`` always gives the home page).
    """
    if not 0 < per_page <= MAX_URLS:
        raise ValueError(f"a sitemap holds 1 to {MAX_URLS} URLs, not {per_page}")
    if not urls:
        raise ValueError("a sitemap needs at least one URL")
    files: dict[str, bytes] = {}
    index = _document("sitemapindex")
    for n, start in enumerate(range(0, len(urls), per_page), start=1):
        chunk = urls[start:start + per_page]
        page = _document("urlset")
        for loc, lastmod in chunk:
            _add(page, "url", loc, lastmod)
        files[page_name(n)] = _bytes(page)
        stamps = [m for _, m in chunk if m]
        _add(index, "sitemap", minter.service(page_name(n)), max(stamps) if stamps else created)
    files[INDEX_NAME] = _bytes(index)
    return files


def write_sitemaps(files: dict[str, bytes], folder: Path) -> list[Path]:
    target = Path(folder) / FOLDER
    target.mkdir(exist_ok=True)
    paths = []
    for name, data in files.items():
        write_durably(target / name, data)
        paths.append(target / name)
    fsync_dir(target)
    return paths


def read_sitemap(folder: Path, name: str) -> bytes | None:
    """Return one written sitemap file, or None."""
    if name != INDEX_NAME and not (name.startswith("sitemap-") and name.endswith(".xml")):
        return None
    path = Path(folder) / FOLDER / name
    return path.read_bytes() if path.is_file() else None


def iter_locs(data: bytes) -> Iterable[str]:
    """Yield the ``loc`` of every URL or sitemap in one sitemap document."""
    root = etree.fromstring(data)
    for loc in root.iter(f"{{{SITEMAP_NS}}}loc"):
        yield loc.text or ""
