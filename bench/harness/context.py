"""Where the binaries, poems and references are, and how big a run is (full or --quick)."""
import dataclasses
import pathlib
import subprocess
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
    def uvloop_server(self) -> list[str] | None:
        """The reference server on uvloop, run by a Python that has it (Debian's python3-uvloop is for
        /usr/bin/python3, which may not be the Python running this); None if none has it."""
        for python in dict.fromkeys([sys.executable, "/usr/bin/python3"]):
            try:
                subprocess.run([python, "-c", "import uvloop"], check=True, capture_output=True, timeout=30)
            except (OSError, subprocess.SubprocessError):
                continue
            return [python, str(self.root / "bench" / "reference" / "poetry_server.py"), "--loop", "uvloop"]
        return None

    @property
    def reference_proxy(self) -> list[str]:
        return [sys.executable, str(self.root / "bench" / "reference" / "proxy.py")]

    @property
    def uvloop_proxy(self) -> list[str] | None:
        """The reference proxy on uvloop, with whichever Python has it; None if none has it."""
        server = self.uvloop_server
        return None if server is None else [server[0], str(self.root / "bench" / "reference" / "proxy.py"), "--loop",
                                            "uvloop"]

    @property
    def minimal_sender(self) -> list[str]:
        return [str(self.driver("bench_minimal_sender"))]

    @property
    def reference_client(self) -> list[str]:
        return [sys.executable, str(self.root / "bench" / "reference" / "poetry_client.py")]
