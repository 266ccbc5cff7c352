"""Wire Docket's parts together behind the ``docket`` command.

This is the only module that imports ingest, mapping, validation, store and server together.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from docket.config import Settings
from docket.ingest import IngestResult, discover, ingest, own_files
from docket.ingest.registry import IdRegistry
from docket.ingest.spool import RecordSpool


def _parse_set(values: tuple[str, ...]) -> dict[str, str]:
    overrides = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--set")
        overrides[name.strip().replace("-", "_")] = value
    return overrides


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--base-uri", help="Base of every minted URI (DOCKET_BASE_URI).")
@click.option("--set", "set_", multiple=True, metavar="NAME=VALUE", help="Override any setting (see `docket settings`).")
@click.version_option(package_name="docket")
@click.pass_context
def main(ctx: click.Context, base_uri: str | None, set_: tuple[str, ...]) -> None:
    """Publish archival records as linked data."""
    try:
        ctx.obj = Settings.load(base_uri=base_uri, **_parse_set(set_))
    except (KeyError, ValueError) as exc:
        raise click.UsageError(str(exc.args[0] if exc.args else exc)) from None


@main.command("settings")
@click.pass_obj
def settings_cmd(settings: Settings) -> None:
    """List every setting with its environment variable, current value and meaning."""
    for name, env, _default, help_text in Settings.describe():
        click.echo(f"{name} = {getattr(settings, name)}\n    {env}: {help_text}")


def run_ingest(paths: tuple[Path, ...], settings: Settings, update_registry: bool,
               spool_dir: Path | None | bool = False) -> IngestResult:
    """Read ``paths`` with a progress bar on long runs; keep the registry up to date.

    With ``spool_dir`` (a folder, or None for the system's temporary folder) the records are kept
    on disk there rather than in memory, for builds of any size.
    """
    try:
        registry = IdRegistry.open(settings.registry_path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    files = list(discover(paths, own_files(settings)))
    long_run = len(files) >= 50 and sys.stderr.isatty()
    with click.progressbar(length=len(files), label="Reading", file=sys.stderr, show_pos=True,
                           hidden=not long_run) as bar:
        spool = None if spool_dir is False else RecordSpool(spool_dir or None)
        result = ingest(paths, settings, registry=registry, on_file=lambda _name: bar.update(1), spool=spool)
    if update_registry:
        registry.save()
    return result


def echo_summary(result: IngestResult, problems: bool = True, seconds: float | None = None) -> None:
    """Print rejections and (unless the validation report will) records' problems, then the summary."""
    for rejection in result.rejections:
        click.echo(f"REJECTED {rejection}", err=True)
    for record in result.records if problems else ():
        for problem in record.problems:
            click.echo(f"{problem.severity}: {record.source} [{record.id}] {problem.field}: {problem.message}", err=True)
    s = result.summary()
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    click.echo(f"{s['files']} files: {s['read']} records read{took}, {s['with_warnings']} with warnings, "
               f"{s['rejected']} rejected")


@main.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON report here.")
@click.option("--rdf", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the graph of all records, authorities and ontology here (format from the extension).")
@click.option("--registry/--no-registry", "update_registry", default=True,
              help="Record newly assigned IDs in the ID registry (default) or leave it untouched.")
@click.pass_obj
def ingest_cmd(settings: Settings, paths: tuple[Path, ...], report: Path | None, rdf: Path | None,
               update_registry: bool) -> None:
    """Read record files and folders; print a summary; exit 1 if any record was rejected."""
    result = run_ingest(paths, settings, update_registry)
    data = result.to_report()
    if rdf:
        data["mapping"] = write_rdf(result, settings, rdf)
    if report:
        report.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    echo_summary(result)
    if result.rejections:
        sys.exit(1)


def write_rdf(result: IngestResult, settings: Settings, target: Path) -> list[dict]:
    """Map every record and write them with the authorities and ontology to ``target``.

    Returns each record's mapping outcomes (reconciliation, problems) for the report.
    """
    from docket import formats
    from docket.mapping import Mapper, dataset_from_results, map_records, write_dataset

    try:
        formats.for_path(target.name)
        mapper = Mapper(settings)
    except (KeyError, ValueError) as exc:
        raise click.ClickException(str(exc.args[0] if exc.args else exc)) from None
    results = map_records(result.records, mapper)
    write_dataset(dataset_from_results(results, mapper), target)
    for record, mapped in zip(result.records, results):
        for problem in (p for p in mapped.problems if p not in record.problems):
            click.echo(f"{problem.severity}: [{mapped.record_id}] {problem.field}: {problem.message}", err=True)
    return [mapped.to_dict() for mapped in results]


FINDINGS_SHOWN = 200  # warnings and notes a build lists; the report files hold every one


class BuildFailed(click.ClickException):
    """Nothing was published: exit status 2, pySHACL's for an error (1 means records were held back)."""

    exit_code = 2


def _exit_for(outcome) -> None:
    """Exit 1 when a record was rejected or held back, 0 otherwise (pySHACL's convention: 2 is an error)."""
    if outcome.rejected or outcome.report.exit_code:
        sys.exit(outcome.report.exit_code or 1)


@main.command("build")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Publish even if markedly fewer records than the current build.")
@click.option("--full", is_flag=True, help="Re-map and re-validate every record, reusing nothing.")
@click.option("--no-space-check", is_flag=True,
              help="Build even if the disk seems too small for it (estimated from the current build).")
@click.option("--all-findings", is_flag=True,
              help=f"List every warning and note, not only the first {FINDINGS_SHOWN} and a count of the rest by kind.")
@click.pass_obj
def build_cmd(settings: Settings, paths: tuple[Path, ...], force: bool, full: bool, no_space_check: bool = False,
              all_findings: bool = False) -> None:
    """Ingest, map, validate and publish a new build of the store (default: the records folder).

    Every violation (a record held back) and error is listed; warnings and notes, which publish, up to
    a number, then counted by kind: the build's validation.json and validation.ttl hold them all.
    """
    from docket.cli.pipeline import build
    from docket.cli.progress import BuildProgress
    from docket.store import StoreError

    try:
        # The records wait in a spool file under the store folder: an unwritable folder fails here.
        started = time.monotonic()
        result = run_ingest(paths or (settings.records_dir,), settings, update_registry=True,
                            spool_dir=settings.store_dir)
        echo_summary(result, problems=False, seconds=time.monotonic() - started)
        with result, BuildProgress(len(result.records)) as progress:
            outcome = build(result, settings, force=force, full=full, check_space=not no_space_check,
                            progress=progress)
    except StoreError as exc:
        raise BuildFailed(str(exc)) from None
    except OSError as exc:  # disk full, unwritable store folder: the unfinished build was dropped
        where = f" ({exc.filename})" if exc.filename else ""
        raise BuildFailed(
            f"the build could not be written under {settings.store_dir}: {exc.strerror or exc}{where}; "
            "nothing was switched, the current build is still published") from None
    for line in outcome.report.lines(limit=None if all_findings else FINDINGS_SHOWN):
        click.echo(line, err=True)
    click.echo(str(outcome.summary))
    _exit_for(outcome)


@main.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the report as JSON.")
@click.option("--rdf", "rdf_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report as RDF (sh:ValidationReport; format from the extension).")
@click.pass_obj
def validate_cmd(settings: Settings, paths: tuple[Path, ...], json_path: Path | None, rdf_path: Path | None) -> None:
    """Check records against the shapes without publishing; exit 0 conforms, 1 does not, 2 error."""
    from docket import formats
    from docket.cli.pipeline import validate_only

    try:
        with run_ingest(paths, settings, update_registry=False, spool_dir=None) as result:
            outcome = validate_only(result, settings)
            ingest_report = result.to_report() if json_path else None
    except (OSError, ValueError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for line in outcome.report.lines():
        click.echo(line)
    for rejection in outcome.rejected:
        click.echo(f"REJECTED {rejection}")
    if json_path:
        data = outcome.report.to_json() | {"ingest": ingest_report}
        json_path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if rdf_path:
        outcome.report.to_graph().serialize(destination=str(rdf_path), format=formats.for_path(rdf_path.name).rdflib)
    _exit_for(outcome)


@main.command("rollback")
@click.pass_obj
def rollback_cmd(settings: Settings) -> None:
    """Make the previous build current again."""
    from docket.store import StoreError, rollback

    try:
        current, previous = rollback(settings)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"current build is now {current} (previous: {previous})")


@main.command("stats")
@click.option("--live", is_flag=True, help="Also count quads and graphs in the store itself.")
@click.pass_obj
def stats_cmd(settings: Settings, live: bool) -> None:
    """Print the current build's counts as JSON."""
    from docket.store import StoreError, stats

    try:
        click.echo(json.dumps(stats(settings, live=live), indent=2, ensure_ascii=False))
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


@main.command("push")
@click.option("--query-url", help="SPARQL query endpoint of the remote store (DOCKET_REMOTE_QUERY_URL).")
@click.option("--graph-store-url", help="Graph Store Protocol endpoint (DOCKET_REMOTE_GRAPH_STORE_URL).")
@click.pass_obj
def push_cmd(settings: Settings, query_url: str | None, graph_store_url: str | None) -> None:
    """Copy the current build's named graphs to a remote SPARQL store, replacing each graph whole."""
    from docket.store import StoreError, open_current
    from docket.store.remote import push, remote_store
    from docket.uris import Minter

    settings = settings.replace(**{k: v for k, v in {"remote_query_url": query_url,
                                                     "remote_graph_store_url": graph_store_url}.items() if v})
    try:
        target = remote_store(settings)
        if not target.graph_store_url:
            raise StoreError("DOCKET_REMOTE_GRAPH_STORE_URL (or --graph-store-url) is needed to load the store")
        sent = push(open_current(settings), target, str(Minter.from_settings(settings).graph("")))
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"pushed {len(sent)} graphs, {sum(sent.values())} triples to {target.graph_store_url}")


def store_is_stale(settings: Settings) -> bool:
    """Say whether the store is missing or older than any source it is built from."""
    from docket.store import current_manifest

    manifest = current_manifest(settings)
    if manifest is None:
        return True
    import datetime as _dt

    built = _dt.datetime.fromisoformat(manifest.created.replace("Z", "+00:00")).timestamp()
    sources = [settings.records_dir, settings.authorities_dir, settings.ontology_dir, settings.shapes_dir,
               settings.rights_table]
    newest = max((p.stat().st_mtime for root in sources if root.exists()
                  for p in ([root] if root.is_file() else root.rglob("*"))), default=0.0)
    return newest > built


@main.command("serve")
@click.option("--host", help="Address to bind (DOCKET_HOST).")
@click.option("--port", type=int, help="Port to listen on (DOCKET_PORT).")
@click.option("--workers", type=int, help="Worker processes (DOCKET_WORKERS; 0 = one per core).")
@click.option("--no-build", is_flag=True, help="Serve the current build even if the sources are newer.")
@click.option("--get", "get_path", metavar="PATH",
              help="Answer one request for PATH in-process, print the body, and exit (non-zero on an error).")
@click.option("--header", "headers", multiple=True, metavar="NAME:VALUE", help="A request header for --get.")
@click.pass_context
def serve_cmd(ctx: click.Context, host: str | None, port: int | None, workers: int | None, no_build: bool,
              get_path: str | None, headers: tuple[str, ...]) -> None:
    """Build when the store is missing or older than the sources, then serve it with gunicorn."""
    settings: Settings = ctx.obj.replace(**{k: v for k, v in
                                            {"host": host, "port": port, "workers": workers}.items() if v is not None})
    if not no_build and store_is_stale(settings):
        click.echo("The store is missing or older than the sources: building.", err=True)
        ctx.invoke(build_cmd, paths=(), force=False, full=False)
    if get_path is not None:
        from docket.serve import create_app
        from docket.serve.once import get_once

        pairs = [h.partition(":") for h in headers]
        sys.exit(get_once(create_app(settings), get_path, {k.strip(): v.strip() for k, _, v in pairs}))
    from docket.serve.wsgi import run

    run(settings)


if __name__ == "__main__":  # pragma: no cover
    main()
