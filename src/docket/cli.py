"""Wire Docket's parts together behind the ``docket`` command.

This is the only module that imports ingest, mapping, validation, store and server together.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from docket.config import Settings
from docket.ingest import IngestResult, discover, ingest, own_files
from docket.ingest.registry import IdRegistry


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


def run_ingest(paths: tuple[Path, ...], settings: Settings, update_registry: bool) -> IngestResult:
    """Read ``paths`` with a progress bar on long runs; keep the registry up to date."""
    try:
        registry = IdRegistry.open(settings.registry_path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    files = list(discover(paths, own_files(settings)))
    long_run = len(files) >= 50 and sys.stderr.isatty()
    with click.progressbar(length=len(files), label="Reading", file=sys.stderr, show_pos=True,
                           hidden=not long_run) as bar:
        result = ingest(paths, settings, registry=registry, on_file=lambda _name: bar.update(1))
    if update_registry:
        registry.save()
    return result


def echo_summary(result: IngestResult) -> None:
    """Print rejections and records with warnings, then the one-line summary."""
    for rejection in result.rejections:
        click.echo(f"REJECTED {rejection}", err=True)
    for record in result.records:
        for problem in record.problems:
            click.echo(f"{problem.severity}: {record.source} [{record.id}] {problem.field}: {problem.message}", err=True)
    s = result.summary()
    click.echo(f"{s['files']} files: {s['read']} records read, {s['with_warnings']} with warnings, "
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


@main.command("serve")
@click.pass_obj
def serve_cmd(settings: Settings) -> None:
    """Build from the records folder and report; serving arrives with the dereferencing interface."""
    result = run_ingest((settings.records_dir,), settings, update_registry=True)
    echo_summary(result)
    if result.rejections:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
