#!/usr/bin/env python3
"""Keeps the docs' references true: every path under Tests/, Sources/, docs/, bench/, fuzz/ or
Examples/ that a document names in backticks exists, and every test it names exists.

Test names: `SomethingTests.name` (a suite and its test function), and a bare `lowerCamelName` in a
paragraph or list item that names a Swift file under Tests/ (a test function somewhere in Tests/).
Paths with placeholders (`<target>`, `NNNN`, `*`, `…`) are skipped.

Usage: references.py [--verbose]     (prints each failure and "N passed, M failed"; exit 1 on a failure)"""
import os, re, sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = ["README.md", "fuzz/README.md", "bench/results/README.md", "Tests/Vectors/README.md"] + sorted(
    "docs/" + name for name in os.listdir(os.path.join(root, "docs")) if name.endswith(".md"))
PREFIXES = ("Tests/", "Sources/", "docs/", "bench/", "fuzz/", "Examples/")
# Files a command writes, which the docs name but the repository does not hold.
OUTPUTS = {"bench/results/latest.md"}  # make bench's report
span = re.compile(r"`([^`\n]+)`")
suite_test = re.compile(r"^([A-Z][A-Za-z0-9]*Tests)\.([a-z][A-Za-z0-9]*)$")
bare_test = re.compile(r"^[a-z]+[A-Z][A-Za-z0-9]*$")
swift_test_file = re.compile(r"Tests/[A-Za-z]+Tests/[A-Za-z0-9+]+\.swift")

# Every Swift test source: its text, the suites it declares and the functions it defines.
suites, functions = set(), set()
for directory, _, files in os.walk(os.path.join(root, "Tests")):
    for name in files:
        if name.endswith(".swift"):
            text = open(os.path.join(directory, name), encoding="utf-8").read()
            suites.update(re.findall(r"\b(?:struct|class|enum|extension)\s+([A-Z][A-Za-z0-9]*)", text))
            functions.update(re.findall(r"\bfunc\s+([a-z][A-Za-z0-9]*)", text))

passed = failed = 0
def check(ok, where, item, problem):
    global passed, failed
    if ok:
        passed += 1
        if "--verbose" in sys.argv: print(f"ok: {where}: {item}")
    else:
        failed += 1
        print(f"{where}: {item} {problem}", file=sys.stderr)

for doc in DOCS:
    path = os.path.join(root, doc)
    if not os.path.exists(path):
        continue
    # Paragraphs and list items: a bare test name counts only next to a test file.
    blocks, current, in_fence = [], [], False
    for number, line in enumerate(open(path, encoding="utf-8").read().split("\n"), 1):
        if line.startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if not line.strip() or re.match(r"^[-*|] |^\d+\. |^#", line):
            if current: blocks.append(current)
            current = []
        if line.strip():
            current.append((number, line))
    if current: blocks.append(current)

    for block in blocks:
        names_test_file = any(swift_test_file.search(line) for _, line in block)
        for number, line in block:
            where = f"{doc}:{number}"
            for text in span.findall(line):
                text = text.strip()
                if text.startswith(PREFIXES) and " " not in text:
                    if re.search(r"[<>*…]|NNNN|\{", text):
                        continue
                    target = re.sub(r"[.,;:]+$", "", text)
                    target = re.sub(r"#.*$", "", target)
                    check(target in OUTPUTS or os.path.exists(os.path.join(root, target)), where, f"`{target}`", "does not exist")
                elif (match := suite_test.match(text)):
                    check(match.group(1) in suites and match.group(2) in functions, where,
                          f"test `{text}`", "not found under Tests/")
                elif names_test_file and bare_test.match(text):
                    check(text in functions, where, f"test `{text}`", "not found under Tests/")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
