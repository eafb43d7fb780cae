#!/usr/bin/env python3
"""Keeps the command reference in docs/ true to the binaries: every section headed `## permid …` or
`## permidd …` in docs/cli.md and docs/operations.md is followed by a fenced block that must be exactly
that command's `--help` output.

Usage: help_sections.py BIN_DIR --check    (fails, naming each stale section, and prints N passed, M failed)
       help_sections.py BIN_DIR --write    (rewrites the blocks)"""
import os, re, subprocess, sys

bin_dir, mode = sys.argv[1], sys.argv[2]
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
section = re.compile(r"^## (permidd?)((?: [a-z-]+)*)\n\n```\n(.*?)```\n", re.S | re.M)
passed = failed = 0
for name in ("docs/cli.md", "docs/operations.md"):
    path = os.path.join(root, name)
    text = open(path).read()

    def replace(match):
        global passed, failed
        command = [os.path.join(bin_dir, match.group(1))] + match.group(2).split() + ["--help"]
        # A fixed width, so the text does not depend on the terminal.
        help_text = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"}).stdout
        if help_text.rstrip("\n") + "\n" == match.group(3):
            passed += 1
        else:
            failed += 1
            print(f"{name}: `{match.group(1)}{match.group(2)}` section differs from --help", file=sys.stderr)
        return f"## {match.group(1)}{match.group(2)}\n\n```\n{help_text.rstrip(chr(10))}\n```\n"

    updated = section.sub(replace, text)
    if mode == "--write" and updated != text:
        open(path, "w").write(updated)
print(f"{passed} passed, {failed} failed")
sys.exit(0 if mode == "--write" or failed == 0 else 1)
