"""Checks deploy/: the Prometheus alert rules and the Grafana dashboard, statically and against live nodes.

Usage:
  deploy_config_test.py static --repo DIR
      `promtool check rules` and `promtool test rules` on deploy/prometheus/, and every dashboard query
      parses (each becomes a recording rule that `promtool check rules` reads).
  deploy_config_test.py live --repo DIR --bin DIR --workdir DIR
      Starts a 3-node encrypted cluster from the built binaries (the storage envelope on, so every
      encryption series exists; three members, so each has peers to report on), SETs a key through Redis
      on the leader so the per-command series exist, scrapes the leader's /metrics and checks that every
      metric and every selector label named by the dashboard and the alerts is exported. Histogram series
      are matched by their `_bucket`/`_sum`/`_count` names. Every process is stopped at the end.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import redis

sys.dont_write_bytecode = True  # importing the helpers must not leave __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_test import check  # noqa: E402
from ports import free_ports  # noqa: E402

DEADLINE_SECONDS = 60
SCRAPE_DEADLINE_SECONDS = 30
DASHBOARD = "deploy/grafana/elastickv.json"
ALERTS = "deploy/prometheus/alerts.yml"
ALERT_TESTS = "deploy/prometheus/alerts_test.yml"
# Labels Prometheus attaches to every scraped series; the node does not export them.
TARGET_LABELS = {"instance", "job"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# Grafana's variables, replaced by values that keep a query's PromQL shape.
GRAFANA_VARIABLES = [("$__rate_interval", "1m"), ("$__interval", "1m"), ("$__range", "1h"),
                     ("${instance}", ".*"), ("$instance", ".*")]


# ---------------------------------------------------------------------------------------------------------
# PromQL: just enough lexing to tell metric names and label names apart from functions and keywords.

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset",
            "bool", "inf", "nan", "atan2"}
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
TOKEN = re.compile(r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<duration>\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)
  | (?P<number>0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<identifier>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<operator>=~|!~|!=|==|<=|>=|[-+*/%^<>=(){}\[\],@:])
  | (?P<space>\s+)
""", re.VERBOSE)


def tokens(expression):
    position = 0
    result = []
    while position < len(expression):
        match = TOKEN.match(expression, position)
        if not match:
            raise ValueError(f"cannot lex {expression[position:position + 20]!r} in {expression!r}")
        position = match.end()
        if match.lastgroup != "space":
            result.append((match.lastgroup, match.group()))
    return result


class Names:
    """What one expression names: metrics (each with its selector's label names) and grouping labels."""

    def __init__(self):
        self.metrics = {}
        self.grouping_labels = set()

    def add_metric(self, name, labels=()):
        self.metrics.setdefault(name, set()).update(labels)


def names_in(expression):
    found = Names()
    items = tokens(expression)
    index = 0

    def label_names_until(closing, start):
        """Label names in a `{…}` selector or a `(…)` label list starting after `start`; returns (names, end)."""
        names, position = [], start
        while position < len(items) and items[position][1] != closing:
            kind, text = items[position]
            following = items[position + 1][1] if position + 1 < len(items) else ""
            if kind == "identifier" and (closing == ")" or following in ("=", "!=", "=~", "!~")):
                names.append(text)
            position += 1
        return names, position + 1

    while index < len(items):
        kind, text = items[index]
        following = items[index + 1][1] if index + 1 < len(items) else ""
        if kind == "identifier" and text in LABEL_LIST_KEYWORDS and following == "(":
            names, index = label_names_until(")", index + 2)
            found.grouping_labels.update(names)
            continue
        if kind == "operator" and text == "[":
            while index < len(items) and items[index][1] != "]":
                index += 1
            index += 1
            continue
        if kind == "operator" and text == "{":
            names, index = label_names_until("}", index + 1)
            found.add_metric(None, names)  # a selector without a metric name; reported below
            continue
        if kind == "identifier" and text in ("by", "without") and following != "(":
            raise ValueError(f"{text} without a label list in {expression!r}")
        if kind == "identifier" and text.lower() not in KEYWORDS and following not in ("(", "by", "without"):
            labels = []
            index += 1
            if following == "{":
                labels, index = label_names_until("}", index + 1)
            found.add_metric(text, labels)
            continue
        index += 1
    return found


# ---------------------------------------------------------------------------------------------------------
# The deploy files.

def dashboard_expressions(repo):
    """(where, PromQL) for every query of the dashboard, its variables' queries included."""
    with open(os.path.join(repo, DASHBOARD)) as file:
        dashboard = json.load(file)
    found = []

    def walk(panels):
        for panel in panels:
            for target in panel.get("targets", []):
                if target.get("expr"):
                    found.append((f"panel {panel.get('title')!r} {target.get('refId')}", target["expr"]))
            walk(panel.get("panels", []))

    walk(dashboard.get("panels", []))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query or ""
        label_values = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", query)
        found.append((f"variable {variable.get('name')!r}", label_values.group(1) if label_values else query))
    check(found, f"{DASHBOARD} has no queries")
    return [(where, substitute_variables(expression)) for where, expression in found]


def substitute_variables(expression):
    for variable, value in GRAFANA_VARIABLES:
        expression = expression.replace(variable, value)
    check("$" not in expression, f"a Grafana variable this check does not know in {expression!r}")
    return expression


def alert_expressions(repo):
    """(where, PromQL) for every rule of the alerts file.

    The test environment has no YAML library, and the file is ours: each `expr:` is a plain or quoted scalar
    on its line, or a folded block (`>-`) on the lines indented below it. Anything else leaves an expression
    with no metric name, which the callers report.
    """
    found, current, block = [], None, None
    with open(os.path.join(repo, ALERTS)) as file:
        lines = file.read().splitlines()
    for line in lines + [""]:
        stripped = line.strip()
        if block is not None:
            indent = len(line) - len(line.lstrip())
            if stripped and indent > block[0]:
                block[1].append(stripped)
                continue
            found.append((current, " ".join(block[1])))
            block = None
        name = re.match(r"-\s*(?:alert|record):\s*(\S+)", stripped)
        if name:
            current = name.group(1)
        expr = re.match(r"expr:\s*(.*)$", stripped)
        if expr:
            value = expr.group(1)
            if value in (">-", ">", "|", "|-"):
                block = (len(line) - len(line.lstrip()), [])
            elif value[:1] in ('"', "'"):
                found.append((current, json.loads(value) if value[0] == '"' else value[1:-1].replace("''", "'")))
            else:
                found.append((current, value))
    check(found, f"{ALERTS} has no rules")
    return found


def promtool(*arguments, cwd=None):
    binary = shutil.which("promtool")
    check(binary, "promtool is not installed (Debian package prometheus; scripts/test.sh installs it)")
    result = subprocess.run([binary, *arguments], capture_output=True, text=True, timeout=120, cwd=cwd)
    return result.returncode, (result.stdout + result.stderr).strip()


def run_static(repo):
    status, output = promtool("check", "rules", os.path.join(repo, ALERTS))
    check(status == 0, f"promtool check rules {ALERTS}:\n{output}")
    print(f"ok: promtool check rules {ALERTS}: {output.splitlines()[-1].strip()}")
    status, output = promtool("test", "rules", os.path.basename(ALERT_TESTS),
                              cwd=os.path.join(repo, os.path.dirname(ALERT_TESTS)))
    check(status == 0, f"promtool test rules {ALERT_TESTS}:\n{output}")
    print(f"ok: promtool test rules {ALERT_TESTS}")
    queries = dashboard_expressions(repo)
    with tempfile.TemporaryDirectory(prefix="elastickv-dashboard-") as scratch:
        rules = os.path.join(scratch, "dashboard-rules.yml")
        with open(rules, "w") as file:
            file.write("groups:\n  - name: dashboard\n    rules:\n")
            for number, (_, expression) in enumerate(queries):
                file.write(f"      - record: dashboard:query_{number}\n        expr: {json.dumps(expression)}\n")
        status, output = promtool("check", "rules", rules)
    check(status == 0, "a dashboard query does not parse:\n" + output + "\n" +
          "\n".join(f"  query_{number}: {where}: {expression}" for number, (where, expression) in enumerate(queries)))
    print(f"ok: the {len(queries)} dashboard queries parse")
    for where, expression in queries + alert_expressions(repo):
        names = names_in(expression)
        check(names.metrics and None not in names.metrics, f"{where}: no metric name found in {expression!r}")
    print("ok: every query names its metrics")


# ---------------------------------------------------------------------------------------------------------
# The live check.

def exported_series(text):
    """Metric name → the label names its exported samples carry, from a Prometheus text exposition."""
    series = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+\S+", line)
        check(match, f"an exposition line that does not parse: {line!r}")
        labels = set(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="(?:[^"\\]|\\.)*"', match.group(2) or ""))
        series.setdefault(match.group(1), set()).update(labels)
    return series


def family(name):
    """The metric family a series name belongs to: a histogram's series map to its base name."""
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def missing_from(series, expressions):
    """Problems with `expressions` against the exported `series`: unknown metrics, unknown labels."""
    missing_metrics, problems = {}, []
    for where, expression in expressions:
        names = names_in(expression)
        labels_in_expression = set(TARGET_LABELS)
        for metric, labels in names.metrics.items():
            if metric not in series:
                missing_metrics.setdefault(family(metric), set()).add(where)
                continue
            labels_in_expression |= series[metric]
            for label in labels - TARGET_LABELS - series[metric]:
                problems.append(f"{where}: {metric} has no label {label!r} (it has {sorted(series[metric])})")
        if not any(family(metric) in missing_metrics for metric in names.metrics):
            for label in names.grouping_labels - labels_in_expression:
                problems.append(f"{where}: groups by {label!r}, a label none of its metrics carries")
    return missing_metrics, problems


class Cluster:
    """Three encrypted elastickv processes on 127.0.0.1 with metrics listeners, and the admin CLI."""

    NAMES = ("n1", "n2", "n3")

    def __init__(self, bin_dir, workdir):
        self.elastickv = os.path.join(bin_dir, "elastickv")
        self.admin_binary = os.path.join(bin_dir, "elastickv-admin")
        self.workdir = workdir
        ports = free_ports(3 * len(self.NAMES))
        count = len(self.NAMES)
        self.grpc = {name: ports[i] for i, name in enumerate(self.NAMES)}
        self.redis = {name: ports[count + i] for i, name in enumerate(self.NAMES)}
        self.metrics = {name: ports[2 * count + i] for i, name in enumerate(self.NAMES)}
        self.initial = ",".join(f"{name}=127.0.0.1:{port}" for name, port in self.grpc.items())
        self.kek = os.path.join(workdir, "kek")
        with open(os.open(self.kek, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
            file.write(os.urandom(32))
        self.processes = {}

    def start_all(self):
        for name in self.NAMES:
            log = open(os.path.join(self.workdir, f"{name}.log"), "ab")
            self.processes[name] = subprocess.Popen(
                [self.elastickv, "--node-id", name, "--data-dir", os.path.join(self.workdir, name),
                 "--grpc-addr", f"127.0.0.1:{self.grpc[name]}", "--redis-addr", f"127.0.0.1:{self.redis[name]}",
                 "--metrics-addr", f"127.0.0.1:{self.metrics[name]}", "--initial-cluster", self.initial,
                 "--encryption-enabled", "--kek-file", self.kek],
                stdout=log, stderr=subprocess.STDOUT)
            log.close()

    def stop_all(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                print(f"{name} ignored SIGTERM for 30 s; killing it")
                process.kill()
                process.wait()
        self.processes.clear()

    def admin(self, name, *arguments):
        command = [self.admin_binary, "--addr", f"127.0.0.1:{self.grpc[name]}", "--json", *arguments]
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=20)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(command, 4, "", "timed out")

    def leader(self):
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                check(process.poll() is None, f"{name} exited with {process.returncode}:\n{self.log(name)}")
                result = self.admin(name, "cluster", "status")
                try:
                    leader = json.loads(result.stdout).get("leader") if result.returncode == 0 else ""
                except ValueError:
                    leader = ""
                if leader in self.processes:
                    return leader
            time.sleep(0.3)
        raise AssertionError("no leader elected within 60 s")

    def on_leader(self, *arguments):
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            leader = self.leader()
            result = self.admin(leader, *arguments)
            if result.returncode == 0:
                return leader
            check(time.monotonic() < deadline,
                  f"elastickv-admin {' '.join(arguments)} kept failing: {result.stdout}{result.stderr}")
            time.sleep(0.5)

    def log(self, name):
        with open(os.path.join(self.workdir, f"{name}.log"), "rb") as file:
            return file.read().decode(errors="replace")[-3000:]

    def scrape(self, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics[name]}/metrics", timeout=10) as response:
            check(response.status == 200, f"/metrics answered {response.status}")
            return response.read().decode()


def run_live(repo, bin_dir, workdir):
    expressions = dashboard_expressions(repo) + alert_expressions(repo)
    cluster = Cluster(bin_dir, workdir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        cluster.start_all()
        leader = cluster.on_leader("encryption", "enable-storage-envelope")
        print(f"ok: 3 encrypted members, storage envelope on, {leader} leads")
        client = redis.Redis(host="127.0.0.1", port=cluster.redis[leader], socket_timeout=10)
        deadline = time.monotonic() + SCRAPE_DEADLINE_SECONDS
        attempt = 0
        while True:
            # Each round writes, so a ready batch refreshes the encryption series (at most once a second).
            attempt += 1
            try:
                check(client.set(f"deploy-check:{attempt}", "v") is True, "SET did not answer OK")
                check(client.get(f"deploy-check:{attempt}") == b"v", "GET did not read the SET back")
            except redis.exceptions.RedisError as error:
                check(time.monotonic() < deadline, f"SET/GET on {leader} kept failing: {error}")
            series = exported_series(cluster.scrape(leader))
            missing, problems = missing_from(series, expressions)
            if not missing and not problems or time.monotonic() > deadline:
                break
            time.sleep(1)
        report = [f"  {metric}  (used by {', '.join(sorted(where))})" for metric, where in sorted(missing.items())]
        check(not missing and not problems,
              "the dashboard or the alerts name what the node does not export:\n"
              + ("missing metrics:\n" + "\n".join(report) + "\n" if missing else "")
              + "\n".join(f"  {problem}" for problem in problems))
        used = {family(metric) for _, expression in expressions for metric in names_in(expression).metrics}
        print(f"ok: all {len(used)} metrics the dashboard and the alerts name are exported by {leader}")
    finally:
        cluster.stop_all()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["static", "live"])
    parser.add_argument("--repo", required=True)
    parser.add_argument("--bin")
    parser.add_argument("--workdir")
    arguments = parser.parse_args()
    if arguments.mode == "static":
        run_static(arguments.repo)
    else:
        check(arguments.bin and arguments.workdir, "live needs --bin and --workdir")
        run_live(arguments.repo, arguments.bin, arguments.workdir)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}")
        sys.exit(1)
