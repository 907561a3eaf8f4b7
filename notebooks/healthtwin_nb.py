"""What every notebook needs to call the `healthtwin` binary: where the repository and the
binary are, and one function that runs a command, shows it, and fails loudly.

It holds no model logic: the notebooks read the files the binary writes.
"""

import os
import shlex
import subprocess
import time
from pathlib import Path


def repo_root() -> Path:
    """The repository root: the first folder upwards from here with `Cargo.toml` and `notebooks/`."""
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / "Cargo.toml").is_file() and (folder / "notebooks").is_dir():
            return folder
    raise RuntimeError("run the notebook from inside the healthtwin repository")


REPO = repo_root()


def binary() -> Path:
    """`HEALTHTWIN_BIN`, else `target/release/healthtwin` of the repository (build it with
    `cargo build --release -p healthtwin`)."""
    path = Path(os.environ.get("HEALTHTWIN_BIN", REPO / "target" / "release" / "healthtwin"))
    if not path.is_absolute():
        path = REPO / path
    if not path.is_file():
        raise FileNotFoundError(
            f"no healthtwin binary at {path}: run `cargo build --release -p healthtwin` "
            "or set HEALTHTWIN_BIN"
        )
    return path


def healthtwin(*args, show: int = 12) -> str:
    """Runs `healthtwin ARGS…` from the repository root, prints the command and the last
    `show` lines of what it printed, and returns its standard output. A failing command
    raises, with its standard error, so a notebook run stops there."""
    cmd = [str(binary()), *map(str, args)]
    print("$ healthtwin " + " ".join(shlex.quote(_shown(a)) for a in args))
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"healthtwin exited with code {done.returncode}:\n{done.stderr.strip()}"
        )
    lines = done.stdout.rstrip().splitlines()
    for line in lines[-show:] if show else []:
        print("  " + line)
    print(f"  ({seconds:.1f} s)")
    return done.stdout


def _shown(arg) -> str:
    """A path under the repository as it would be typed there; anything else as it is."""
    if isinstance(arg, Path) and arg.is_relative_to(REPO):
        return str(arg.relative_to(REPO))
    return str(arg)


def out_dir(name: str) -> Path:
    """An output folder under `out/notebooks/` of the repository (the binary creates it)."""
    return REPO / "out" / "notebooks" / name
