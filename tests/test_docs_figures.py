"""test_docs_figures.py GENERATOR DOCS_DIR: scripts/docs_figures.py,
run into a temporary directory, writes exactly the SVGs committed in
docs/ (so nobody edits them by hand, or forgets to regenerate), and each
is well-formed XML with an <svg> root.
"""
import glob
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

generator, docs = sys.argv[1], sys.argv[2]
failures = []
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([sys.executable, generator, tmp], check=True)
    made = sorted(os.path.basename(p) for p in glob.glob(os.path.join(tmp, "*.svg")))
    committed = sorted(os.path.basename(p) for p in glob.glob(os.path.join(docs, "*.svg")))
    if made != committed:
        failures.append(f"files: generated {made}, committed {committed}")
    for name in made:
        with open(os.path.join(tmp, name), "rb") as f:
            new = f.read()
        try:
            root = ET.fromstring(new)
            if root.tag != "{http://www.w3.org/2000/svg}svg":
                failures.append(f"{name}: root element is {root.tag}, not svg")
        except ET.ParseError as e:
            failures.append(f"{name}: not well-formed XML: {e}")
        path = os.path.join(docs, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                if f.read() != new:
                    failures.append(f"{name}: differs from the generator's output "
                                    "(run python3 scripts/docs_figures.py and commit)")
for f in failures:
    print("FAIL:", f)
if failures:
    sys.exit(1)
print(f"ok: {len(made)} figures, identical to docs/, well-formed")
