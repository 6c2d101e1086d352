"""`rltnet users`: accounts on the service's database, from the machine it runs on.

The first administrator of a fresh database is made here (nobody can log in to make
one through the API); after that administrators also use `POST /api/v1/users`.
Passwords are prompted without echo, or read from standard input when it is not a
terminal (`... < password-file`), never taken as an argument: arguments are visible
to every user of the machine and kept in shell histories.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from rltnet.domain.errors import InvalidInput

if TYPE_CHECKING:
    from rltnet.service.platform import Platform

users_app = typer.Typer(
    help="Accounts of the service: the first administrator, password resets.", no_args_is_help=True
)
console = Console()
DatabaseOption = Annotated[
    str | None,
    typer.Option(help="SQLite file or PostgreSQL URL (default: RLTNET_DATABASE_URL or var/)."),
]
NetworkOption = Annotated[str | None, typer.Option(help="Bundled network name or YAML file.")]
# The account the command line records in the audit trail as the maker of an account.
CLI_ACTOR = "rltnet-cli"


def _platform(database_url: str | None, network: str | None) -> Platform:
    from rltnet.service.platform import Platform
    from rltnet.service.settings import Settings

    overrides = {k: v for k, v in {"database_url": database_url, "network": network}.items() if v}
    return Platform.start(Settings(**overrides))  # type: ignore[arg-type]


def read_password(prompt: str = "Password") -> str:
    """A password typed without echo (asked twice), or the first line of standard input."""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        raise InvalidInput("the password is shorter than 12 characters; choose a longer one")
    return password


@users_app.command("create")
def create(
    username: Annotated[str, typer.Option(help="Login name: lower case letters, digits, '.', '_', '-'.")],
    role: Annotated[
        str, typer.Option(help="admin, coordinator, physician, manufacturer or analyst.")
    ] = "admin",
    centre: Annotated[str | None, typer.Option(help="The centre of a coordinator or physician.")] = None,
    database_url: DatabaseOption = None,
    network: NetworkOption = None,
) -> None:
    """Create an account (the first administrator of a fresh database, for one); the password
    is prompted without echo, or read from standard input."""
    from rltnet.service import audit
    from rltnet.service.schemas import UserCreate
    from rltnet.service.security import Principal, Role
    from rltnet.service.usecases.users import add_user

    password = read_password()
    try:
        body = UserCreate.model_validate(
            {"username": username, "password": password, "role": role, "centre_id": centre}
        )
    except ValidationError as err:
        raise InvalidInput(_first_problem(err)) from None
    platform = _platform(database_url, network)
    try:
        with platform.sessions() as session:
            user = add_user(session, platform, body)
            maker = Principal(0, CLI_ACTOR, Role.ADMIN, None)
            after = audit.snapshot(user, leave_out=frozenset({"password_hash"}))
            at = platform.clock.now()
            audit.record(session, maker, "create_user", "user", str(user.id), after=after, at=at)
            session.commit()
    finally:
        platform.close()
    where = f" at {centre}" if centre else ""
    console.print(
        f"created {role} {username!r}{where}; log in at the workspace or POST /api/v1/auth/login",
        highlight=False,
        soft_wrap=True,
    )


@users_app.command("password")
def password(
    username: Annotated[str, typer.Argument(help="Whose password to set.")],
    database_url: DatabaseOption = None,
    network: NetworkOption = None,
) -> None:
    """Set a user's password (prompted, or from standard input); every login they hold ends."""
    from sqlalchemy import select

    from rltnet.service import audit
    from rltnet.service.security import Principal, Role
    from rltnet.service.usecases.users import set_password
    from rltnet.store import tables

    new = read_password("New password")
    platform = _platform(database_url, network)
    try:
        with platform.sessions() as session:
            user = session.scalars(select(tables.User).where(tables.User.username == username)).first()
            if user is None:
                raise InvalidInput(f"no user {username!r}; list them with `rltnet users list`")
            ended = set_password(session, user, new)
            maker = Principal(0, CLI_ACTOR, Role.ADMIN, None)
            logins = {"logins_ended": ended}
            at = platform.clock.now()
            audit.record(session, maker, "set_password", "user", str(user.id), after=logins, at=at)
            session.commit()
    finally:
        platform.close()
    console.print(f"password of {username!r} set; {ended} login(s) ended")


@users_app.command("list")
def listing(database_url: DatabaseOption = None, network: NetworkOption = None) -> None:
    """The accounts: username, role, centre, active."""
    from sqlalchemy import select

    from rltnet.store import tables

    platform = _platform(database_url, network)
    try:
        with platform.sessions() as session:
            rows = list(session.scalars(select(tables.User).order_by(tables.User.username)))
    finally:
        platform.close()
    if not rows:
        console.print(
            "no users yet: create one with `rltnet users create --role admin --username NAME`", soft_wrap=True
        )
    for user in rows:
        state = "" if user.active else " (inactive)"
        console.print(f"{user.username}\t{user.role}\t{user.centre_id or '-'}{state}", highlight=False)


def _first_problem(err: ValidationError) -> str:
    problems = []
    for problem in err.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "input"
        field = {"centre_id": "--centre"}.get(field, f"--{field}")
        problems.append(f"{field}: {problem['msg']}")
    return "; ".join(problems)
