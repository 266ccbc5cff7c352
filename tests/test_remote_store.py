"""A real Oxigraph server, loaded by `docket push`, answers what the embedded store answers."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from docket.cli import main
from docket.serve.handle import StoreHandle
from docket.store import StoreError, open_current
from docket.store.remote import RemoteStore

from servers import OxigraphServer, VirtuosoServer

OURS = "http://example.org/graph/"
SEED = "http://example.org/id/record/1954-06-20-telegram-ccp-central-committee-to-zhou-enlai"
QUERIES = [
    "SELECT ?t WHERE { ?r <http://purl.org/dc/terms/title> ?t } ORDER BY ?t",
    f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), '{OURS}')) }} "
    "GROUP BY ?g ORDER BY ?g",
    f"ASK {{ <{SEED}> a <https://www.ica.org/standards/RiC/ontology#Record> }}",
]


# Oxigraph makes its default graph the union on request; Virtuoso's default graph already is.
SERVERS = {"oxigraph": (OxigraphServer, "union-default-graph"), "virtuoso": (VirtuosoServer, "")}


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(request, tmp_path_factory):
    kind, union_param = SERVERS[request.param]
    server = kind(tmp_path_factory.mktemp(request.param))
    server.union_param = union_param
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pushed(built_settings, server):
    settings = built_settings.replace(store_backend="remote", remote_query_url=server.query_url,
                                      remote_graph_store_url=server.graph_store_url,
                                      remote_union_param=server.union_param)
    env = {"DOCKET_STORE_DIR": str(settings.store_dir), "DOCKET_BASE_URI": settings.base_uri}
    res = CliRunner().invoke(main, ["push", "--query-url", server.query_url,
                                    "--graph-store-url", server.graph_store_url], env=env)
    assert res.exit_code == 0, res.output
    assert "pushed" in res.stdout
    return settings


def rows(result):
    return [tuple(str(v) for v in row) for row in result]


@pytest.mark.parametrize("query", QUERIES)
def test_remote_answers_like_embedded(pushed, query):
    local, remote = open_current(pushed), StoreHandle(pushed).get()
    assert isinstance(remote, RemoteStore)
    # Virtuoso's default graph is always the union, so only the union is comparable everywhere.
    for union in (True,):
        a, b = local.query(query, union_default_graph=union), remote.query(query, union_default_graph=union)
        if query.startswith("ASK"):
            assert bool(a) == bool(b)
        else:
            # Engines may order literals of different kinds differently; the rows must agree.
            assert sorted(rows(a)) == sorted(rows(b))


def test_construct_and_graph_operations(pushed):
    local, remote = open_current(pushed), StoreHandle(pushed).get()
    query = f"CONSTRUCT {{ <{SEED}> ?p ?o }} WHERE {{ <{SEED}> ?p ?o }}"
    assert set(map(str, local.query(query, union_default_graph=True))) == \
        set(map(str, remote.query(query, union_default_graph=True)))
    assert set(local.named_graphs()) == {g for g in remote.named_graphs() if g.startswith(OURS)}
    graph = f"http://example.org/graph/record/{SEED.rsplit('/', 1)[1]}"
    assert remote.contains_graph(graph) and remote.count(graph) == local.count(graph)



def test_an_unreachable_remote_is_a_clear_error(built_settings):
    settings = built_settings.replace(store_backend="remote", remote_query_url="http://127.0.0.1:9/query")
    with pytest.raises(StoreError, match="did not answer"):
        StoreHandle(settings).get().query("ASK {}")


def test_remote_backend_needs_its_url(built_settings):
    with pytest.raises(StoreError, match="DOCKET_REMOTE_QUERY_URL"):
        StoreHandle(built_settings.replace(store_backend="remote"))
