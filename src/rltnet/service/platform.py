"""The running service's state: settings, database, network, catalogue, sealer, placer, clock.

Built once at start (`Platform.start`): connects, migrates the schema to the
newest version, loads the network and writes its centres and staff to the
database, and, with `RLTNET_DEMO`, fills an empty database with demo data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from rltnet.domain.clock import Clock, SystemClock
from rltnet.domain.network import Network
from rltnet.domain.products import Catalogue
from rltnet.files.catalogue_file import default_catalogue
from rltnet.files.network_file import load_network, network_path
from rltnet.service import notes
from rltnet.service.keys import SealingKeys, adopt_development_values, sealing_keys
from rltnet.service.placement import Placer
from rltnet.service.security import Sealer
from rltnet.service.settings import Settings
from rltnet.store import db
from rltnet.store.migrate import upgrade
from rltnet.store.sync import sync_network


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    network: Network
    catalogue: Catalogue
    sealer: Sealer
    placer: Placer
    keys: SealingKeys  # the sealer's keys and where they are kept; the newest signs forms
    clock: Clock = field(default_factory=SystemClock)  # the one source of "now" for the service
    # sessions for requests that only read: on SQLite they take no write lock (store.db)
    reads: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.reads = db.sessions(db.reading(self.engine))
        for made in (self.sessions, self.reads):  # where event notes are sealed and opened
            made.configure(info={notes.SEALER: self.sealer})

    @classmethod
    def start(cls, settings: Settings, clock: Clock | None = None) -> Platform:
        """The platform on `settings`, reading time from `clock` (the system's by default)."""
        keys = sealing_keys(settings)
        engine = db.connect(settings.database_url)
        try:
            upgrade(engine)
        except (DBAPIError, OSError) as err:
            engine.dispose()
            raise db.unreachable(settings.database_url, err) from None
        adopt_development_values(engine, keys)
        catalogue = default_catalogue()
        network = load_network(network_path(settings.network), catalogue)
        platform = cls(
            settings=settings,
            engine=engine,
            sessions=db.sessions(engine),
            network=network,
            catalogue=catalogue,
            sealer=keys.sealer(),
            placer=Placer(network, catalogue),
            keys=keys,
            clock=clock or SystemClock(),
        )
        with platform.sessions() as session:
            sync_network(session, network)
            session.commit()
        return platform

    @property
    def secret_key(self) -> str:
        """The installation's newest secret key (forms' CSRF tokens are signed with it)."""
        return self.keys.newest

    def close(self) -> None:
        self.engine.dispose()
