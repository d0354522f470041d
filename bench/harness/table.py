"""A result table, printed as Markdown (readable in a terminal, pasted as is into RESULTS.md)."""
import dataclasses


@dataclasses.dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    errors: int = 0  # measurements that could not be taken (bench/run then exits 1)

    def add(self, *cells) -> None:
        self.rows.append(list(cells))
        print("  " + " | ".join(_cell(c) for c in cells), flush=True)  # progress while it runs

    def note(self, text: str) -> None:
        self.notes.append(text)
        print("  " + text, flush=True)

    def error(self, text: str) -> None:
        self.errors += 1
        self.note(f"not measured: {text}")

    def markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(self.headers) + " |")
        lines.append("|" + "|".join("---" for _ in self.headers) + "|")
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
