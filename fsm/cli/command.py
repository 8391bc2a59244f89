"""How the commands are built and run: click-style help (fsm.cli.help), and an operator's error or a
bad command line as one line on stderr, with --json also a JSON document on stdout, and its exit status.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import typer
from typer._click.core import Context
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperCommand, TyperGroup, TyperOption

from fsm.cli.help import click_style, environment_variables, root_epilog


@dataclass(frozen=True)
class Failure:
    """An error the operator can act on, as it is reported: its type and message, the line on stderr,
    and the exit status."""

    kind: str
    message: str
    line: str
    exit_code: int

    @classmethod
    def of(cls, exc: Exception) -> Failure | None:
        """The report of an engine, exchange, file or usage error, credentials masked; None for anything
        else (a bug: it raises)."""
        from exchange import OkxError
        from fsm.engine.venue import mask_credentials
        from fsm.errors import ExitStatus, exit_status

        kind = type(exc).__name__
        if isinstance(exc, UsageError):
            message = mask_credentials(exc.format_message())
            hint = "" if exc.ctx is None else f" (see {exc.ctx.command_path} --help)"
            return cls(kind, message, f"error: {message}{hint}", ExitStatus.USAGE)
        status = exit_status(exc)
        if status is None:
            return None
        if isinstance(exc, OkxError):
            message = mask_credentials(str(exc))
            return cls(kind, message, f"exchange error: {kind}: {message}", status)
        raw = f"cannot use {exc.filename}: {exc.strerror}" if isinstance(exc, OSError) else str(exc)
        message = mask_credentials(raw)
        return cls(kind, message, f"error: {message}", status)

    def report(self, as_json: bool) -> None:
        """One line on stderr; with --json also {"error": {...}} on stdout, for a script to read."""
        from fsm.errors import ExitStatus

        print(self.line, file=sys.stderr)
        if as_json:
            error = {
                "type": self.kind,
                "message": self.message,
                "exit_code": int(self.exit_code),
                "exit_status": ExitStatus(self.exit_code).name,
            }
            with _reader_may_leave(self.exit_code):  # the error stays an error
                print(json.dumps({"error": error}, indent=2, sort_keys=True))
                sys.stdout.flush()


def closed_pipe(status: int = 0) -> NoReturn:
    """Whoever read stdout has gone (`okx-fsm status | head -1`): not an error. The rest of the output
    goes to /dev/null, so the flush at exit cannot fail as well, and the command ends with `status`."""
    with contextlib.suppress(OSError, ValueError):  # a stdout without a descriptor (a test's capture)
        stdout = sys.stdout.fileno()
        os.dup2(os.open(os.devnull, os.O_WRONLY), stdout)
    sys.exit(status)


@contextlib.contextmanager
def _reader_may_leave(status: int = 0) -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        closed_pipe(status)


@contextlib.contextmanager
def _help_reader_may_leave() -> Iterator[None]:
    """typer prints --help through a rich console of its own, which exits 1 when the pipe is closed
    (nothing else in printing the help exits): end with status 0 instead."""
    try:
        yield
    except SystemExit:
        closed_pipe()


def _styled(option: TyperOption | None) -> TyperOption | None:
    click_style([] if option is None else [option])
    return option


class Command(TyperCommand):
    """A command with click-style help whose operator errors end it with their exit status."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        click_style(self.params)

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _styled(super().get_help_option(ctx))

    def format_help(self, ctx: Context, formatter: Any) -> None:
        with _help_reader_may_leave():
            super().format_help(ctx, formatter)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            failure = Failure.of(exc)
            if failure is None:
                raise
            failure.report(as_json=ctx.params.get("as_json") is True)
            raise typer.Exit(failure.exit_code) from None


class Group(TyperGroup):
    """A group of commands (`okx-fsm candles ...`) with the same click-style help as its commands."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        click_style(self.params)

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _styled(super().get_help_option(ctx))


class RootGroup(Group):
    """`okx-fsm` itself: click-style help ending in the exit codes and environment variables, and a bad
    command line reported like any other error (exit 2), never as a box of usage."""

    def make_context(self, *args: Any, **kwargs: Any) -> Context:
        with _reader_may_leave():  # --version prints here
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Context) -> Any:
        with _reader_may_leave():  # a command's output
            return super().invoke(ctx)

    def format_help(self, ctx: Context, formatter: Any) -> None:
        from fsm.errors import ExitStatus  # here, not at import: --help is the only reader

        shown = [(name, cmd.params) for name, cmd in self.commands.items() if not cmd.hidden]
        statuses = [(status.value, status.meaning) for status in ExitStatus]
        self.epilog = root_epilog(statuses, environment_variables(shown))
        with _help_reader_may_leave():
            super().format_help(ctx, formatter)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        run = functools.partial(
            super().main, argv, prog_name, complete_var, False, windows_expand_args, **extra
        )
        if not standalone_mode:
            return run()
        try:
            result = run()
        except NoArgsIsHelpError as exc:
            result = exc.exit_code  # the help is already printed
        except UsageError as exc:
            failure = Failure.of(exc)
            assert failure is not None
            failure.report(as_json="--json" in argv)
            result = failure.exit_code
        except typer.Abort:
            print("Aborted!", file=sys.stderr)
            result = 1
        status = int(result) if isinstance(result, int) else 0
        with _reader_may_leave(status):
            sys.stdout.flush()  # now, not at exit: a reader gone by then is a closed pipe too
        sys.exit(status)


def add(app: typer.Typer, fn: Callable[..., Any], name: str | None = None, *, hidden: bool = False) -> None:
    """Register `fn` as a command of `app` (named after the function unless `name`)."""
    app.command(name, cls=Command, hidden=hidden)(fn)


def alias(app: typer.Typer, name: str, fn: Callable[..., Any], *, machine: str | None = None) -> None:
    """Register one of the seed's command names for `fn`: it keeps working, out of --help. With
    `machine`, its MACHINE argument may be left out and defaults to that machine."""
    add(app, fn if machine is None else _defaulting(fn, "machine", machine), name, hidden=True)


def _defaulting(fn: Callable[..., Any], param: str, value: str) -> Callable[..., Any]:
    """`fn` with a default for its parameter `param`, as typer reads a signature."""
    signature = inspect.signature(fn, eval_str=True)

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    parameters = [p.replace(default=value) if p.name == param else p for p in signature.parameters.values()]
    command.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return command
