"""Where the binaries, poems and references are, and how big a run is (full or --quick)."""
import dataclasses
import pathlib
import sys


class BenchError(Exception):
    """A benchmark could not run (a binary failed, a server did not start): one line."""


@dataclasses.dataclass
class Context:
    root: pathlib.Path
    build: pathlib.Path
    work: pathlib.Path  # a temporary folder, removed after the run
    quick: bool

    @property
    def server(self) -> pathlib.Path:
        return self.build / "poetry_server" / "poetry_server"

    @property
    def client(self) -> pathlib.Path:
        return self.build / "poetry_client" / "poetry_client"

    def driver(self, name: str) -> pathlib.Path:
        return self.build / "bench" / name

    def poem(self, name: str) -> pathlib.Path:
        return self.root / "poems" / name

    @property
    def reference_server(self) -> list[str]:
        return [sys.executable, str(self.root / "bench" / "reference" / "poetry_server.py")]

    @property
    def reference_client(self) -> list[str]:
        return [sys.executable, str(self.root / "bench" / "reference" / "poetry_client.py")]
