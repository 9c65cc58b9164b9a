"""``altaviz``: run the pipeline locally, manage the embedded database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from altaviz import runtime
from altaviz.fabric.cli import fabric_app

app = typer.Typer(help="Altaviz: predictive maintenance for compressor fleets.", no_args_is_help=True)
db_app = typer.Typer(help="The local serving database (embedded PostgreSQL).", no_args_is_help=True)
app.add_typer(db_app, name="db")
users_app = typer.Typer(help="Dashboard sign-in accounts in the PostgreSQL serving database.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(fabric_app, name="fabric")
benchmark_app = typer.Typer(help="Public benchmarks of the predictive models.", no_args_is_help=True)
app.add_typer(benchmark_app, name="benchmark")
notebook_app = typer.Typer(
    help="Working copies of the repository's notebooks for Jupyter, and saving edits back.", no_args_is_help=True
)
app.add_typer(notebook_app, name="notebook")
# Progress lines are never wrapped: a log or CI terminal keeps them one line each.
console = Console(soft_wrap=True)

# Exit codes of `altaviz run`: 0 completed (quarantined rows are reported, not an error), 1 a step
# failed, 2 the pipeline definition is invalid, 3 another run holds the lock, 4 completed but landed
# files were rejected whole (listed in Tables/bronze_rejected_files).
EXIT_REJECTED_INPUT = 4
DEFAULT_PIPELINE = Path("pipelines/altaviz_pipeline.DataPipeline/pipeline-content.json")


def _parse_params(values: list[str]) -> dict[str, str]:
    params = {}
    for item in values:
        if "=" not in item:
            raise typer.BadParameter(f"--param takes NAME=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        params[key.strip()] = value
    return params


def _table_rows(home: Path) -> dict[str, int]:
    """Row counts of every lakehouse table, read from the Delta log by delta-rs (no Spark start)."""
    from deltalake import DeltaTable

    counts = {}
    for path in sorted((home / "lakehouse" / "Tables").glob("*/_delta_log")):
        actions = DeltaTable(str(path.parent)).get_add_actions(flatten=True)
        counts[path.parent.name] = int(sum(actions.column("num_records").to_pylist()))
    return counts


def _print_summary(result: Any, home: Path) -> None:
    steps = Table(title=f"run {result.run_id}")
    for col in ("step", "status", "seconds", "result"):
        steps.add_column(col)
    for a in result.activities:
        if a.status == "skipped" and result.succeeded:
            continue  # the on-failure path, not taken
        headline = {k: v for k, v in (a.exit_value or {}).items() if not isinstance(v, dict)}
        steps.add_row(a.name, a.status, f"{a.seconds:.1f}", a.error or json.dumps(headline)[:110])
    console.print(steps)
    if (home / "lakehouse" / "Tables").exists():
        rows = Table(title="lakehouse tables")
        rows.add_column("table")
        rows.add_column("rows", justify="right")
        for name, n in _table_rows(home).items():
            rows.add_row(name, f"{n:,}")
        console.print(rows)
    exits = {a.name: a.exit_value or {} for a in result.activities}
    silver = exits.get("03_silver", {})
    gold = exits.get("04_gold", {})
    if silver or gold:
        console.print(
            f"quarantined this run: {silver.get('quarantined', 0)}  "
            f"alert episodes: {gold.get('alert_episodes', 0)} "
            f"(critical {gold.get('critical_episodes', 0)}, active {gold.get('active_episodes', 0)})"
        )
    rules = {rule: n for rule, n in (silver.get("rules") or {}).items() if n and rule != "reading_gap"}
    if rules:
        console.print("quarantined rows per rule: " + ", ".join(f"{r} {n}" for r, n in sorted(rules.items())))
    rejected = exits.get("02_bronze", {}).get("rejected") or {}
    if rejected:
        console.print(
            f"[yellow]rejected files this run: {sum(rejected.values())} ("
            + ", ".join(f"{reason} {n}" for reason, n in sorted(rejected.items()))
            + ") — see Tables/bronze_rejected_files[/]"
        )


def rejected_files(result: Any) -> int:
    """Files 02_bronze rejected whole in this run."""
    for a in result.activities:
        if a.name == "02_bronze":
            return int((a.exit_value or {}).get("rejected_files", 0))
    return 0


@app.command()
def run(
    param: Annotated[list[str], typer.Option("--param", "-p", help="Pipeline parameter NAME=VALUE (repeatable).")] = [],  # noqa: B006
    pipeline: Annotated[Path, typer.Option(help="Fabric pipeline-content.json to execute.")] = DEFAULT_PIPELINE,
    notebooks: Annotated[Path, typer.Option(help="Folder with the *.Notebook items.")] = Path("notebooks"),
    home: Annotated[Path | None, typer.Option(help="State folder (default $ALTAVIZ_HOME or ./.altaviz).")] = None,
) -> None:
    """Run the Fabric Data Pipeline definition locally with papermill."""
    from altaviz.runlock import RunLockedError
    from altaviz.runner import PipelineError, run_pipeline

    home = (home or runtime.state_home()).resolve()

    def listener(event: str, data: dict[str, Any]) -> None:
        if event == "run_started":
            console.print(f"[bold]run {data['run_id']}[/] → executed notebooks and run.log in {data['run_dir']}")
        elif event == "lock_cleared":
            previous = f"run {data.get('run_id')} (pid {data.get('pid')})"
            console.print(f"[yellow]{previous} was interrupted; its lock is cleared[/]")
        elif event == "activity_started":
            console.print(f"▶ {data['name']} {json.dumps(data['parameters'])}")
        elif event == "progress":
            console.print(f"  [dim]{data['line']}[/]", highlight=False)
        elif event == "activity_succeeded":
            console.print(f"[green]✔ {data['name']}[/] {data['seconds']:.1f}s")
        elif event == "activity_failed":
            console.print(f"[red]✘ {data['name']} failed[/] after {data['seconds']:.1f}s: {data['error']}")
            if data["output_notebook"]:  # a Fail activity runs no notebook
                console.print(f"  executed notebook: {data['output_notebook']}")
            console.print(f"  run log (Spark, kernel and notebook output): {data['log']}")
        elif event == "activity_skipped":
            console.print(f"[dim]– {data['name']} skipped (its dependency conditions did not hold)[/]")

    try:
        with console.status("running pipeline…"):
            result = run_pipeline(pipeline, notebooks, overrides=_parse_params(param), home=home, listener=listener)
    except PipelineError as err:
        console.print(f"[red]pipeline error:[/] {err}")
        raise typer.Exit(2) from err
    except RunLockedError as err:
        console.print(f"[red]not started:[/] {err}")
        raise typer.Exit(3) from err
    _print_summary(result, home)
    if not result.succeeded:
        raise typer.Exit(1)
    _first_operator(home)
    if rejected_files(result):
        raise typer.Exit(EXIT_REJECTED_INPUT)


def _first_operator(home: Path) -> None:
    """After the first successful run: the dashboard's first operator account, its password shown
    here once. Printed by this process only, never by a notebook, so no run.log or executed
    notebook holds it."""
    import os

    from altaviz import accounts

    if (os.environ.get("DB_TYPE") or "postgres").lower() in ("azure_sql", "fabric_sql"):
        return  # in Azure, people sign in with Entra ID
    try:
        password = accounts.ensure_first_operator(accounts.serving_database_url(home))
    except Exception as err:  # the run itself succeeded; say how to do this step by hand
        console.print(
            f"[yellow]no first dashboard account created ({err}); "
            "create one with: altaviz users add <name> --role operator[/]"
        )
        return
    if password:
        console.print(
            f"[bold]dashboard sign-in:[/] account [bold]{accounts.FIRST_OPERATOR}[/] (operator), "
            f"password [bold]{password}[/]\n"
            "  shown only this once; change it with `altaviz users set-password operator`, "
            "add people with `altaviz users add <name> --role operator|viewer`",
            highlight=False,
        )


@app.command()
def ingest(
    every: Annotated[int, typer.Option(min=1, help="Seconds between landings of new files.")] = 60,
    home: Annotated[Path | None, typer.Option(help="State folder (default $ALTAVIZ_HOME or ./.altaviz).")] = None,
) -> None:
    """Keep ingesting newly landed raw files into bronze (02_bronze with continuous_seconds); Ctrl-C stops."""
    import os

    from altaviz import jobs
    from altaviz.runlock import RunLockedError, exclusive_run

    if home is not None:
        os.environ["ALTAVIZ_HOME"] = str(home.resolve())
    run_id = runtime.resolve_run_id("")
    # It shares 02_bronze's landed-files ledger, so it holds the state folder like a pipeline run.
    try:
        with exclusive_run(runtime.state_home().resolve(), run_id):
            console.print(f"ingesting {runtime.lakehouse_root()}/Files/raw every {every} s; Ctrl-C stops")
            jobs.run_bronze(runtime.get_spark(), run_id=run_id, continuous_seconds=every)
    except RunLockedError as err:
        console.print(f"[red]not started:[/] {err}")
        raise typer.Exit(3) from err
    except KeyboardInterrupt:
        console.print("stopped")


def _scoring_versions_lstm(predictions, config):
    """The RUL LSTM logged with the newest model version named in ``predictions`` (None if that
    version has none, or the registry is not reachable from here)."""
    from altaviz.predict import registry, train

    versions = [r[0] for r in predictions.select("model_version").distinct().collect()]
    if not versions:
        return None
    version = max(versions, key=int)
    registry.configure()
    try:
        lstm = train.load_lstm(config.predictions.model_name, version)
    except Exception as err:  # noqa: BLE001  (the table without the LSTM is still the table)
        console.print(f"[yellow]no RUL LSTM of model version {version}:[/] {err}")
        return None
    if lstm is None:
        console.print(f"model version {version} carries no RUL LSTM: its row is left out")
    return lstm


@app.command()
def evaluate(
    home: Annotated[Path | None, typer.Option(help="State folder (default $ALTAVIZ_HOME or ./.altaviz).")] = None,
) -> None:
    """Judge the lakehouse's stored predictions and threshold alerts against its work orders: per
    source, failures warned, median lead, shares warned 24 h / 48 h ahead, false alarms, RUL error
    (and, on a simulated fleet, the share of slowly degrading failures warned 24 h ahead)."""
    import os

    import pandas as pd

    from altaviz import lakehouse
    from altaviz.config import load_config
    from altaviz.lakehouse import Lakehouse
    from altaviz.predict import evaluate as judging
    from altaviz.predict import train

    if home is not None:
        os.environ["ALTAVIZ_HOME"] = str(home.resolve())
    spark = runtime.get_spark()
    lh = Lakehouse.default(runtime.lakehouse_root())
    if not lakehouse.table_exists(spark, lh, "gold_predictions"):
        console.print("[red]no gold_predictions in this lakehouse:[/] run the pipeline first (`altaviz run`)")
        raise typer.Exit(1)
    config = load_config()
    predictions = lakehouse.read(spark, lh, "gold_predictions")
    episodes = lakehouse.read(spark, lh, "gold_alert_episodes")
    lstm = _scoring_versions_lstm(predictions, config)
    table, leads, judged = train.evaluate_predictions(
        predictions,
        lakehouse.read(spark, lh, "gold_hourly_readings"),
        lakehouse.read(spark, lh, "silver_maintenance_events"),
        episodes,
        config,
        lstm=lstm,
    )
    truth_path = Path(runtime.lakehouse_root()) / "Files" / "raw" / "ground_truth"
    if truth_path.exists():
        truth = pd.read_parquet(truth_path)
        slow = judging.slow_failures_warned(leads, truth.dropna(subset=["failure_at"]))
        table["share_slow_failures_warned_24h"] = table.source.map(slow)
        # The episodes the table judged: the models' (as the current settings open them) and the limits'.
        judged = judged[judged.opened_at >= predictions.agg({"hour_start": "min"}).toPandas().iloc[0, 0]]
        healthy = judging.alarms_while_healthy(judged, truth)
        table["alarms_while_healthy_by_answer_key"] = table.source.map(lambda s: healthy.get(s, 0))
    out = Table(title="warnings judged against the work orders")
    for column in table.columns:
        out.add_column(column, justify="left" if column == "source" else "right")
    for row in table.itertuples(index=False):
        out.add_row(*[v if isinstance(v, str) else ("—" if pd.isna(v) else f"{v:.3g}") for v in row])
    console.print(out)


NotebooksOption = Annotated[Path, typer.Option(help="Folder with the *.Notebook items.")]
CopiesOption = Annotated[
    Path | None, typer.Option(help="Folder of the working copies (default <state folder>/notebooks).")
]


def _notebook_items(notebooks: Path, names: list[str]) -> dict[str, Path]:
    """name (``04_gold``) → its notebook-content.py; unknown names are an error that lists the known ones."""
    items = {
        p.parent.name.removesuffix(".Notebook"): p for p in sorted(notebooks.glob("*.Notebook/notebook-content.py"))
    }
    unknown = [n for n in names if n not in items]
    if unknown or not items:
        console.print(
            f"[red]no notebook {', '.join(unknown) or 'at all'}[/] in {notebooks}; known: {', '.join(items) or '-'}"
        )
        raise typer.Exit(2)
    return {n: items[n] for n in names} if names else items


@notebook_app.command("open")
def notebook_open(
    names: Annotated[list[str] | None, typer.Argument(help="Notebooks (e.g. 04_gold); default all.")] = None,
    notebooks: NotebooksOption = Path("notebooks"),
    copies: CopiesOption = None,
    force: Annotated[bool, typer.Option(help="Replace working copies that have unsaved edits.")] = False,
) -> None:
    """Write each notebook as a Jupyter working copy (.ipynb) that runs against the local lakehouse.
    A copy with edits not saved back is kept unless --force."""
    import nbformat

    from altaviz import fabric_format

    folder = copies or runtime.state_home() / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    kept = 0
    for name, source in _notebook_items(notebooks, names or []).items():
        text = source.read_text(encoding="utf-8")
        copy = folder / f"{name}.ipynb"
        if copy.exists() and not force and fabric_format.has_edits(nbformat.read(copy, as_version=4), text):
            console.print(f"kept {copy}: it has edits not saved back (`altaviz notebook save {name}`, or --force)")
            kept += 1
            continue
        nbformat.write(fabric_format.working_copy(text), copy)
        console.print(f"wrote {copy}")
    console.print(
        f"Open them with `make notebook` (JupyterLab on {folder}); save edits back with `altaviz notebook save`.",
        highlight=False,
    )
    if kept:
        raise typer.Exit(1)


@notebook_app.command("save")
def notebook_save(
    names: Annotated[
        list[str] | None, typer.Argument(help="Notebooks (e.g. 04_gold); default every working copy.")
    ] = None,
    notebooks: NotebooksOption = Path("notebooks"),
    copies: CopiesOption = None,
    force: Annotated[
        bool, typer.Option(help="Overwrite a repository notebook that changed since the copy was opened.")
    ] = False,
) -> None:
    """Write the cells of each working copy back to the repository's notebook-content.py (outputs
    dropped, Fabric metadata kept); refused when the repository notebook changed meanwhile."""
    import nbformat

    from altaviz import fabric_format

    folder = copies or runtime.state_home() / "notebooks"
    wanted = names or sorted(p.stem for p in folder.glob("*.ipynb"))
    if not wanted:
        console.print(f"[red]no working copies[/] in {folder}: `altaviz notebook open` first")
        raise typer.Exit(2)
    refused = 0
    for name, source in _notebook_items(notebooks, wanted).items():
        copy = folder / f"{name}.ipynb"
        if not copy.exists():
            console.print(f"[red]no working copy[/] {copy}")
            refused += 1
            continue
        text = source.read_text(encoding="utf-8")
        nb = nbformat.read(copy, as_version=4)
        try:
            saved = fabric_format.save_working_copy(nb, text, force=force)
        except (fabric_format.StaleCopyError, fabric_format.FabricFormatError) as err:
            console.print(f"[red]not saved[/] {name}: {err}")
            refused += 1
            continue
        if saved == text:
            console.print(f"{name}: no changes")
            continue
        source.write_text(saved, encoding="utf-8")
        nbformat.write(nb, copy)  # outputs kept; the copy now stands for the saved source
        console.print(f"saved {name} → {source}")
    if refused:
        raise typer.Exit(1)


@benchmark_app.command("cmapss")
def benchmark_cmapss(
    out: Annotated[Path, typer.Option(help="CSV to write: unit,rul for test engines 1-100.")],
    data_dir: Annotated[Path, typer.Option(help="Folder with train_FD001.txt and test_FD001.txt.")] = Path(
        "../shared/data/cmapss"
    ),
    epochs: Annotated[
        int | None, typer.Option(min=1, help="Most epochs per member (early stopping ends sooner).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the validation split and of the first member.")] = 0,
    members: Annotated[
        int | None, typer.Option(min=1, help="Ensemble members (seeds seed, seed+1, ...; cnn, cnn, lstm, cnn, ...).")
    ] = None,
    train_units: Annotated[
        int | None, typer.Option(min=2, help="Train on the first N training engines only (quick runs).")
    ] = None,
    refit: Annotated[
        bool,
        typer.Option(
            help="Refit every member on all training engines for the epochs validation chose; the test CSV "
            "comes from the refit, the validation figures from the fit without the validation engines."
        ),
    ] = False,
) -> None:
    """NASA C-MAPSS FD001: train the sequence-RUL ensemble, print validation RMSE, write a RUL per test engine."""
    from altaviz.predict.cmapss import config_for, run_benchmark

    for name in ("train_FD001.txt", "test_FD001.txt"):
        if not (data_dir / name).is_file():
            console.print(f"[red]missing[/] {data_dir / name} (C-MAPSS FD001; see --data-dir)")
            raise typer.Exit(2)
    config = config_for(epochs, seed, members)
    report = run_benchmark(
        data_dir, out, config, train_units=train_units, refit=refit, log=lambda m: console.print(m, highlight=False)
    )
    console.print(
        f"validation RMSE {report['val_rmse']:.2f}, MAE {report['val_mae']:.2f} over "
        f"{report['val_windows']} windows of {len(report['val_units'])} engines (RUL capped at {config.rul_cap:g})",
        highlight=False,
    )
    console.print(
        f"validation, test protocol (last cycle of engines cut at random): RMSE {report['val_cut_rmse']:.2f}, "
        f"MAE {report['val_cut_mae']:.2f}, NASA score per engine {report['val_cut_score_per_engine']:.2f}",
        highlight=False,
    )
    source = "members refitted on all training engines" if refit else "the validated members"
    console.print(f"wrote {out} (100 test engines, {source}) in {report['seconds_total']:.0f} s", highlight=False)


@db_app.command("start")
def db_start(home: Annotated[Path | None, typer.Option()] = None) -> None:
    """Start (or attach to) the embedded PostgreSQL and print its URL."""
    from altaviz.publish.embedded import start_embedded_postgres

    console.print(start_embedded_postgres(home.resolve() if home else None), soft_wrap=True)


@db_app.command("stop")
def db_stop(home: Annotated[Path | None, typer.Option()] = None) -> None:
    """Stop the embedded PostgreSQL."""
    from altaviz.publish.embedded import stop_embedded_postgres

    stopped = stop_embedded_postgres(home.resolve() if home else None)
    console.print("stopped" if stopped else "not running")


def _read_password(generate: bool, password_stdin: bool) -> tuple[str, bool]:
    """(password, generated): from stdin, generated, or typed twice at a hidden prompt."""
    import sys

    from altaviz import accounts

    if generate and password_stdin:
        raise typer.BadParameter("give --generate or --password-stdin, not both")
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    if generate:
        return accounts.generate_password(), True
    return typer.prompt("password", hide_input=True, confirmation_prompt=True), False


HomeOption = Annotated[Path | None, typer.Option(help="State folder of the embedded PostgreSQL ($ALTAVIZ_HOME).")]
GenerateOption = Annotated[bool, typer.Option("--generate", help="Generate a password and print it once.")]
StdinOption = Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")]
RoleOption = Annotated[
    str, typer.Option(help="viewer (sees everything) or operator (also acknowledges, resolves, reopens).")
]


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Account name people sign in with; the audit trail shows it.")],
    role: RoleOption = "viewer",
    generate: GenerateOption = False,
    password_stdin: StdinOption = False,
    home: HomeOption = None,
) -> None:
    """Add a local account (password prompted, read from stdin, or generated)."""
    from altaviz import accounts

    try:
        accounts.check_name(name)
        password, generated = _read_password(generate, password_stdin)
        accounts.add_account(accounts.serving_database_url(home.resolve() if home else None), name, role, password)
    except accounts.AccountError as err:
        console.print(f"[red]not added:[/] {err}")
        raise typer.Exit(1) from err
    console.print(f"added {role} account [bold]{name}[/]", highlight=False)
    if generated:
        console.print(f"password (shown only this once): [bold]{password}[/]", highlight=False)


@users_app.command("set-password")
def users_set_password(
    name: str,
    generate: GenerateOption = False,
    password_stdin: StdinOption = False,
    home: HomeOption = None,
) -> None:
    """Change a local account's password; it is signed out everywhere."""
    from altaviz import accounts

    try:
        password, generated = _read_password(generate, password_stdin)
        accounts.set_password(accounts.serving_database_url(home.resolve() if home else None), name, password)
    except accounts.AccountError as err:
        console.print(f"[red]not changed:[/] {err}")
        raise typer.Exit(1) from err
    console.print(f"password of [bold]{name}[/] changed; its sessions are signed out", highlight=False)
    if generated:
        console.print(f"password (shown only this once): [bold]{password}[/]", highlight=False)


@users_app.command("remove")
def users_remove(name: str, home: HomeOption = None) -> None:
    """Delete an account and sign it out; the audit trail keeps its name."""
    from altaviz import accounts

    try:
        accounts.remove_account(accounts.serving_database_url(home.resolve() if home else None), name)
    except accounts.AccountError as err:
        console.print(f"[red]not removed:[/] {err}")
        raise typer.Exit(1) from err
    console.print(f"removed [bold]{name}[/]", highlight=False)


@users_app.command("list")
def users_list(home: HomeOption = None) -> None:
    """Every account with its role and last sign-in."""
    from altaviz import accounts

    try:
        rows = accounts.list_accounts(accounts.serving_database_url(home.resolve() if home else None))
    except accounts.AccountError as err:
        console.print(f"[red]{err}[/]")
        raise typer.Exit(1) from err
    table = Table(title="dashboard accounts")
    for col in ("account", "role", "provider", "created", "last sign-in"):
        table.add_column(col)
    for a in rows:
        table.add_row(
            a.name,
            a.role,
            a.provider,
            f"{a.created_at:%Y-%m-%d %H:%M}",
            f"{a.last_sign_in_at:%Y-%m-%d %H:%M}" if a.last_sign_in_at else "never",
        )
    console.print(table)


if __name__ == "__main__":
    app()
