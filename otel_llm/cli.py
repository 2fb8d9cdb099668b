"""The ``otel-llm`` command.

``otel-llm demo`` shows the telemetry of real openai (and anthropic) SDK calls against a local server, offline.
``otel-llm check-config FILE`` validates a configuration file and prints its resolved pipelines.
``otel-llm collector --config FILE`` receives OTLP and applies the pipeline centrally.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from otel_llm.version import __version__


def _demo(args: argparse.Namespace) -> int:
    from otel_llm.config import ConfigError
    from otel_llm.demo.app import run  # imports openai: only when the command needs it

    try:
        return run(capture_content=args.capture_content, as_json=args.json, config=args.config)
    except ConfigError as err:
        print(f"otel-llm demo: {err}", file=sys.stderr)
        return 1


def _check_config(args: argparse.Namespace) -> int:
    """0 and the resolved pipelines; 1 and every problem for an invalid file; 2 when it cannot be read."""
    from otel_llm.config import ConfigError, ConfigFileError, describe, load_config

    try:
        config = load_config(args.file)
    except ConfigFileError as err:
        print(f"otel-llm check-config: {err}", file=sys.stderr)
        return 2
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
    sys.stdout.write(describe(config))
    return 0


def _collector(args: argparse.Namespace) -> int:
    """Runs until SIGTERM or SIGINT; 1 and the problems for an invalid configuration."""
    from otel_llm.config import ConfigError, ConfigFileError

    try:
        from otel_llm.collector.server import run
    except ImportError as err:  # the extra is not installed
        print(f"otel-llm collector: {err.name} is missing: pip install 'otel-llm[collector]'", file=sys.stderr)
        return 2
    try:
        return run(args.config, log_format=args.log_format)
    except ConfigFileError as err:
        print(f"otel-llm collector: {err}", file=sys.stderr)
        return 2
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
    except OSError as err:  # a port in use, a certificate that cannot be read
        print(f"otel-llm collector: {err}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="otel-llm",
        description="OpenTelemetry GenAI spans and metrics for LLM SDK calls.",
    )
    parser.add_argument("--version", action="version", version=f"otel-llm {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="run real openai and anthropic SDK calls against a local demo server and print their telemetry",
        description=(
            "Instrument the SDKs, start a local server speaking the OpenAI and Anthropic APIs, make a chat, "
            "a streamed chat, a tool-calling exchange, a Responses API call and an embeddings call (and, "
            "when the anthropic SDK is installed, a message, a streamed message and a token count), then "
            "print the spans and metrics. Needs no API key and no network beyond loopback."
        ),
    )
    demo.add_argument(
        "--capture-content",
        action="store_true",
        help="record message content (gen_ai.input.messages, gen_ai.output.messages, ...) on spans; "
        "off by default, as in production",
    )
    demo.add_argument(
        "--json",
        action="store_true",
        help="print OTLP/JSON lines instead: one TracesData per span, then one MetricsData (step headers go to stderr)",
    )
    demo.add_argument(
        "--config",
        metavar="FILE",
        help="also send the spans through the destinations pipeline of this configuration file "
        "(docs/configuration.md) and print what each destination exported or dropped",
    )
    demo.set_defaults(func=_demo)

    check = commands.add_parser(
        "check-config",
        help="validate a configuration file and print the resolved pipelines (secrets masked)",
        description=(
            "Load FILE as otel_llm.configure() would (${env:VAR} references substituted from this "
            "environment), then print each destination with its effective redaction, filter, queue "
            "and retries, and where each tenant's calls go. Exit status: 0 valid, 1 invalid (every "
            "problem listed on stderr by key path), 2 the file cannot be read. See docs/configuration.md."
        ),
    )
    check.add_argument("file", metavar="FILE", help="the YAML configuration file")
    check.set_defaults(func=_check_config)

    collector = commands.add_parser(
        "collector",
        help="receive OTLP from every app and apply the destinations pipeline centrally",
        description=(
            "Listen for OTLP over gRPC and HTTP (protobuf and JSON), authenticate each sender and take "
            "its tenant from its credential, normalise spans of other instrumentation libraries to the "
            "GenAI conventions, add cost, then redact and export per destination as FILE says "
            "(docs/collector.md). Admin API, /metrics and /healthz on collector.admin.endpoint. "
            "Stops on SIGTERM or SIGINT after delivering what it holds."
        ),
    )
    collector.add_argument("--config", required=True, metavar="FILE", help="the YAML configuration file")
    collector.add_argument(
        "--log-format", choices=("json", "text"), default="json", help="structured JSON lines (default) or text"
    )
    collector.set_defaults(func=_collector)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return func(args)
    except BrokenPipeError:
        # The reader of our stdout went away (`otel-llm demo | head`). Point stdout at devnull so
        # the interpreter's final flush does not raise again, and exit like other CLI tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
