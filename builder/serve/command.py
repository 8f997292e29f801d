"""`builder serve` on the command line: its options, and a clean stop on Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
import time
import webbrowser
from collections.abc import Iterator

from builder.report import Reporter

EXIT_OK, EXIT_USAGE = 0, 2


def add_serve_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `serve` on the CLI's subparsers, with the options every command shares."""
    # Imported here: cli imports this module first, and is complete by the time it builds its parser.
    from builder.cli import _common

    serve = commands.add_parser("serve", help="build a preview, serve it and reload the browser on every change")
    _common(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000,
                       help="port to listen on; 0 picks a free one (default: 8000)")
    serve.add_argument("--open", action="store_true", help="open the preview in the web browser")
    serve.set_defaults(run=run_serve)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0 to 65535)")
    return int(text)


def run_serve(args: argparse.Namespace, reporter: Reporter) -> int:
    from builder.serve.session import CannotServe, preview_session  # here: a build never needs the server

    try:
        session_options = {"host": args.host, "port": args.port, "drafts": args.drafts, "now": args.now,
                           "debug": args.debug}
        with _interrupt_on_terminate(), preview_session(args.source, reporter, **session_options) as session:
            reporter.info(f"serving {session.url}  (Ctrl-C to stop)")
            if args.open:
                webbrowser.open(session.url)
            while True:  # short naps: a signal caught by another thread runs its handler only here
                time.sleep(0.2)
    except KeyboardInterrupt:
        reporter.info("stopped")
    except CannotServe as exc:
        reporter.failure(str(exc), exc.hint)
        return EXIT_USAGE
    return EXIT_OK


@contextlib.contextmanager
def _interrupt_on_terminate() -> Iterator[None]:
    """Ctrl-C and `kill` both stop the server the same clean way, even where a shell ignored SIGINT."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.default_int_handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
