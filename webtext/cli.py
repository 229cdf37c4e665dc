"""The `webtext` command.

    webtext run [CONFIG] [--from STAGE] [--until STAGE] [--force]   run the stages in order
    webtext status [CONFIG]                                          which stages are done, with counts
    webtext validate [CONFIG]                                        check the config, run nothing
    webtext <stage> [CONFIG] [--force] [stage options]               run one stage
    webtext <stage> <action> ...                                     a stage's tools (e.g. shard verify)
    webtext <command> ...                                            e.g. export-hf, eval

CONFIG defaults to ./pipeline.yaml. A stage package may add its own options, actions and commands
in an optional `<stage>/cli.py` (see `Command`), which must import only the standard library and
webtext at module level (heavy imports go inside functions); this module only dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import dataclass
from typing import Callable, Optional

from webtext.config import DEFAULT_CONFIG, STAGES
from webtext.errors import ConfigError, WebtextError


@dataclass
class Command:
    """A subcommand contributed by a stage's cli.py."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str = ""


STAGE_HELP = {
    "crawl": "Reddit submissions -> filtered, deduplicated links -> pages fetched by Scrapy into WARC files",
    "clean": "WARC records -> main text (trafilatura) -> language id and quality filters (Beam)",
    "dedupe": "exact and MinHash near-duplicate removal, then benchmark decontamination (Beam)",
    "shard": "train or load the GPT-2 BPE, tokenize into llm.c-format binary shards (Beam)",
    "train": "pretrain GPT-2 on the shards with PyTorch",
    "report": "corpus statistics and training curves as one HTML page and stats.json",
}


def _stage_cli(stage: str):
    try:
        return importlib.import_module(f"{stage}.cli")
    except ModuleNotFoundError as e:
        if e.name == f"{stage}.cli":
            return None
        raise


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", default=DEFAULT_CONFIG,
                        help=f"pipeline config (default: ./{DEFAULT_CONFIG})")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config value, e.g. --set train.max_steps=100 (value read as YAML)")


def _overrides(pairs: list[str]) -> dict:
    import yaml

    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError([f"--set {pair}: expected KEY=VALUE"])
        key, value = pair.split("=", 1)
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as e:
            reason = str(e).splitlines()[0]
            raise ConfigError([f"--set {key.strip()}: the value {value!r} is not valid YAML ({reason})"]) from None
    return out


def load(args):
    from webtext.config import load_config

    return load_config(args.config, overrides=_overrides(args.overrides))


def _runner(cfg, quiet=False):
    from webtext.progress import Progress
    from webtext.runner import Runner

    return Runner(cfg, Progress(quiet=quiet))


# -- commands ------------------------------------------------------------------------------------

def cmd_run(args) -> int:
    cfg = load(args)
    first = STAGES.index(args.from_stage) if args.from_stage else 0
    last = STAGES.index(args.until_stage) if args.until_stage else len(STAGES) - 1
    if first > last:
        raise WebtextError(f"--from {args.from_stage} comes after --until {args.until_stage}")
    stages = list(STAGES[first:last + 1])
    runner = _runner(cfg)
    runner.run(stages, force=args.force)
    print(f"finished: {', '.join(stages)} in {cfg.run.work_dir}")
    return 0


def cmd_status(args) -> int:
    from webtext.progress import format_counts

    cfg = load(args)
    runner = _runner(cfg, quiet=True)
    print(f"work dir: {cfg.run.work_dir}")
    for st in runner.status():
        when = (st.success or {}).get("finished_at", "")
        counts = format_counts((st.success or {}).get("counts")) if st.success else ""
        line = f"  {st.name:<8} {st.state:<8} {when:<26} {counts}"
        if st.detail:
            line += f"  ({st.detail})"
        print(line.rstrip())
    return 0


def cmd_validate(args) -> int:
    cfg = load(args)
    print(f"{args.config}: valid (work dir {cfg.run.work_dir})")
    return 0


def make_stage_runner(stage: str, run_option_dests: list[str]):
    def cmd(args) -> int:
        cfg = load(args)
        options = {d: getattr(args, d) for d in run_option_dests if getattr(args, d, None) is not None}
        runner = _runner(cfg)
        from webtext.runner import work_lock

        with work_lock(cfg.run.work_dir):
            runner.run_stage(stage, force=args.force, options=options)
        return 0

    return cmd


# -- parsing -------------------------------------------------------------------------------------

def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="webtext",
        description="Rebuild WebText and GPT-2: Reddit links -> pages -> clean text -> tokens -> model, "
                    "driven by one pipeline.yaml.",
        epilog="Each command has --help. Stages in order: " + " -> ".join(STAGES))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="run the stages in order (skipping finished ones)",
                       description="Run the pipeline's stages in order. A stage whose config and inputs are "
                                   "unchanged since it finished is skipped; a changed one reruns with every stage after it.")
    _config_arg(p)
    p.add_argument("--from", dest="from_stage", choices=STAGES, help="first stage to run")
    p.add_argument("--until", dest="until_stage", choices=STAGES, help="last stage to run")
    p.add_argument("--force", action="store_true", help="rerun the selected stages even if finished")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("status", help="show which stages are done, with their counts",
                       description="Show each stage's state (done, stale, partial, missing) and counts, running nothing.")
    _config_arg(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("validate", help="check a config file and run nothing",
                       description="Validate the config: unknown keys, wrong types, missing files.")
    _config_arg(p)
    p.set_defaults(func=cmd_validate)

    # Stage cli modules import only the standard library at module level, so loading all is cheap.
    for stage in STAGES:
        mod = _stage_cli(stage)
        actions = getattr(mod, "ACTIONS", {}) if mod else {}
        action_list = "".join(f"\n  webtext {stage} {a:<8} {c.help}" for a, c in actions.items())
        p = sub.add_parser(stage, help=STAGE_HELP[stage],
                           description=f"Run the {stage} stage: {STAGE_HELP[stage]}.",
                           epilog=("actions:" + action_list) if action_list else None,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if len(argv) > 1 and argv[0] == stage and argv[1] in actions:
            continue  # handled as an action below
        _config_arg(p)
        p.add_argument("--force", action="store_true", help="rerun even if finished with the same fingerprint")
        before = {a.dest for a in p._actions}
        if mod and hasattr(mod, "add_run_arguments"):
            mod.add_run_arguments(p)
        dests = [a.dest for a in p._actions if a.dest not in before]
        p.set_defaults(func=make_stage_runner(stage, dests))
        if mod:
            for name, command in getattr(mod, "COMMANDS", {}).items():
                cp = sub.add_parser(name, help=command.help, description=command.description or command.help)
                command.add_arguments(cp)
                cp.set_defaults(func=command.run)
    return parser


def parse_action(argv: list[str]):
    """`webtext <stage> <action> ...` -> (func, args), or None."""
    if len(argv) < 2 or argv[0] not in STAGES:
        return None
    mod = _stage_cli(argv[0])
    command = getattr(mod, "ACTIONS", {}).get(argv[1]) if mod else None
    if command is None:
        return None
    p = argparse.ArgumentParser(prog=f"webtext {argv[0]} {argv[1]}", description=command.description or command.help)
    command.add_arguments(p)
    return command.run, p.parse_args(argv[2:])


def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        action = parse_action(argv)
        if action:
            func, args = action
        else:
            parser = build_parser(argv)
            args = parser.parse_args(argv)
            if not getattr(args, "func", None):
                parser.print_help()
                return 2
            func = args.func
        return int(func(args) or 0)
    except WebtextError as e:
        print(f"webtext: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("webtext: interrupted; rerun the same command to resume or restart the stage cleanly", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
