#!/usr/bin/env bash
# CI: execute every notebook (notebooks/*.ipynb) top to bottom against the release binary,
# with the small sizes of their parameter cells, and check that the stored notebooks carry
# no outputs. A cell that raises fails the script.
#
#   bash .ci/notebooks.sh        # after `cargo build --release -p healthtwin`
#
# The venv lives in target/notebooks-venv and is reused while notebooks/requirements.txt is
# unchanged. HEALTHTWIN_BIN overrides the binary (default target/release/healthtwin).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

# 1. Stored notebooks have no outputs (checked before anything runs, with any python3).
python3 - <<'PY'
import json, pathlib, sys
bad = []
notebooks = sorted(pathlib.Path("notebooks").glob("*.ipynb"))
if not notebooks:
    sys.exit("no notebooks/*.ipynb")
for path in notebooks:
    nb = json.loads(path.read_text())
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if any(c.get("outputs") or c.get("execution_count") is not None for c in cells):
        bad.append(f"{path}: stored with outputs or execution counts (clear them before committing)")
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells):
        bad.append(f"{path}: no cell tagged `parameters`")
if bad:
    sys.exit("\n".join(bad))
print(f"{len(notebooks)} notebooks stored without outputs, each with a parameters cell")
PY

# 2. The binary, built once by the caller (.ci/run's cargo test builds it).
export HEALTHTWIN_BIN="${HEALTHTWIN_BIN:-$PWD/target/release/healthtwin}"
if [ ! -x "$HEALTHTWIN_BIN" ]; then
  cargo build --release -p healthtwin
fi

# 3. A venv with the pinned requirements (Debian's python3-venv when venv is missing).
VENV=target/notebooks-venv
STAMP="$VENV/requirements.sha256"
if [ ! -f "$STAMP" ] || ! sha256sum --status -c "$STAMP" 2>/dev/null; then
  rm -rf "$VENV"
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$VENV"
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r notebooks/requirements.txt
  sha256sum notebooks/requirements.txt >"$STAMP"
fi
echo "venv ready after $(( $(date +%s) - started )) s"

# 4. Execute every notebook in its own kernel from notebooks/ (as Jupyter does); executed
#    copies go to target/notebooks-executed/ for inspection, never back into notebooks/.
"$VENV/bin/python" - <<'PY'
import pathlib, sys, time
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

out = pathlib.Path("target/notebooks-executed")
out.mkdir(parents=True, exist_ok=True)
passed, failed = 0, 0
for path in sorted(pathlib.Path("notebooks").glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": "notebooks"}}).execute()
        # Each notebook ends with a figure and a sentence computed from the run.
        last = [c for c in nb.cells if c.cell_type == "code"][-1].outputs
        if not any("image/png" in o.get("data", {}) for o in last) or not any(
            o.output_type == "stream" and o.name == "stdout" and o.text.strip() for o in last
        ):
            raise CellExecutionError("the last cell shows no figure or no sentence", "", "")
        passed += 1
        print(f"{path}: ran in {time.perf_counter() - started:.1f} s")
    except CellExecutionError as e:
        failed += 1
        print(f"{path}: FAILED after {time.perf_counter() - started:.1f} s\n{e}", file=sys.stderr)
    nbformat.write(nb, out / path.name)
print(f"notebooks: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
echo "notebooks done in $(( $(date +%s) - started )) s"
