#!/usr/bin/env python3
"""metrics-e2e.py PFI DB SRCDIR - pfi metrics --listen scraped by a real
Prometheus on loopback: the values it stores must be the known answers of
testdata/logs/sample.log, and every PromQL expression of the shipped
dashboard and alert rules must evaluate without error.  Then README's
recipes that Debian packages: node_exporter's textfile collector reading
`pfi metrics --output`, and Zabbix agent 2 fetching /metrics and running
contrib/zabbix/pfi.conf.  Exits non-zero on any failure, and when
prometheus, promtool, prometheus-node-exporter or zabbix_agent2 is
missing."""
import gzip, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time
import urllib.error, urllib.parse, urllib.request

pfi, db, src = sys.argv[1:4]
fails = []

def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)

for tool, pkg in (("prometheus", "prometheus"), ("promtool", "prometheus"),
                  ("prometheus-node-exporter", "prometheus-node-exporter"),
                  ("zabbix_agent2", "zabbix-agent2")):
    if shutil.which(tool) is None and not os.access("/usr/sbin/" + tool, os.X_OK):
        sys.exit("metrics-e2e: %s is missing (Debian package %s)" % (tool, pkg))

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    return p

def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
    except (urllib.error.URLError, ConnectionError):
        return 0, {}, b""

tmp = tempfile.mkdtemp(prefix="pfi-e2e-")
procs = []
try:
    srv = subprocess.Popen([pfi, "--db", db, "metrics", "--listen", "127.0.0.1:0"],
                           stderr=subprocess.PIPE, text=True)
    procs.append(srv)
    line = srv.stderr.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", line)
    check(m is not None, "pfi says where it listens: " + line.strip())
    port = int(m.group(1))
    base = "http://127.0.0.1:%d" % port
    st, hd, body = get(base + "/metrics")
    check(st == 200 and hd["Content-Type"].startswith("text/plain; version=0.0.4"), "GET /metrics 200 text/plain 0.0.4")
    st, hd, gz = get(base + "/metrics", {"Accept-Encoding": "gzip"})
    check(st == 200 and hd.get("Content-Encoding") == "gzip" and gzip.decompress(gz) == body, "gzip when asked, same text")
    check(get(base + "/")[0] == 200 and b"/metrics" in get(base + "/")[2], "GET / links /metrics")
    check(get(base + "/nope")[0] == 404, "404 elsewhere")
    try:
        urllib.request.urlopen(urllib.request.Request(base + "/metrics", data=b"x", method="POST"), timeout=10)
        check(False, "POST refused")
    except urllib.error.HTTPError as e:
        check(e.code == 405 and "GET" in (e.headers.get("Allow") or ""), "POST /metrics 405 with Allow")

    ppath = os.path.join(tmp, "metrics.prom")
    open(ppath, "wb").write(body)
    r = subprocess.run(["promtool", "check", "metrics"], stdin=open(ppath, "rb"), capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout.strip() == "" and r.stderr.strip() == "", "promtool check metrics: no error, no lint " + r.stdout + r.stderr)
    # The families of the exposition, and the labels of their samples.
    text = body.decode()
    families = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    labels = {f: set() for f in families}
    for name, lset in re.findall(r"^([a-z_:][a-z0-9_:]*)\{(.*)\} \S+$", text, re.M):
        base = re.sub(r"_(bucket|sum|count)$", "", name) if name not in families else name
        labels.setdefault(base, set()).update(re.findall(r'(?:^|,)([a-z_]+)="', lset))
    sampled = {f for f in families if re.search(r"^%s(_bucket|_sum|_count)?[{ ]" % f, text, re.M)}
    # A family without samples here has the labels its man page gives it
    # (test_metrics checks those against samples of other logs).
    man = open(os.path.join(src, "man/pfi-metrics.1")).read()
    for name, brq in re.findall(r"Cm (pfi_\w+) Brq ([^\n]*?)(?= , Cm |\n)", man):
        if name in families and name not in sampled:
            labels[name] |= {x.strip() for x in brq.split(",") if x.strip()}
    rules = os.path.join(src, "contrib/prometheus/pfi-rules.yml")
    r = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True)
    check(r.returncode == 0, "promtool check rules " + r.stdout.strip().replace("\n", " "))

    pport = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    # README's scrape job is contrib/prometheus/scrape.yml: used as it is,
    # but for the port and a faster interval.
    job = open(os.path.join(src, "contrib/prometheus/scrape.yml")).read()
    check("'127.0.0.1:9154'" in job and "scrape_interval: 30s" in job, "scrape.yml targets 127.0.0.1:9154 every 30s")
    job = job.replace("'127.0.0.1:9154'", "'127.0.0.1:%d'" % port).replace("scrape_interval: 30s", "scrape_interval: 1s")
    open(cfg, "w").write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                         "rule_files: ['%s']\n%s" % (rules, job))
    r = subprocess.run(["promtool", "check", "config", cfg], capture_output=True, text=True)
    check(r.returncode == 0, "promtool check config (scrape.yml and the rules) " + r.stdout.strip().replace("\n", " "))
    prom = subprocess.Popen(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                             "--web.listen-address=127.0.0.1:%d" % pport, "--log.level=warn"],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "prom.log"), "w"))
    procs.append(prom)
    papi = "http://127.0.0.1:%d/api/v1/" % pport

    def query(expr):
        st, _, b = get(papi + "query?" + urllib.parse.urlencode({"query": expr}))
        # While it starts, Prometheus answers 503 in plain text.
        return st, json.loads(b.decode()) if st == 200 and b else {}

    def value(expr):
        st, j = query(expr)
        res = j.get("data", {}).get("result", [])
        return float(res[0]["value"][1]) if st == 200 and res else None

    deadline = time.time() + 60
    while time.time() < deadline and value('up{job="pfi"}') != 1.0:
        time.sleep(0.5)
    check(value('up{job="pfi"}') == 1.0, "prometheus scrapes pfi (up == 1)")
    known = {
        'sum(pfi_messages_received_total)': 66,
        'pfi_messages_received_total{host="mx1",source="pickup"}': 1,
        'sum(pfi_notifications_total{kind="bounce"})': 3,
        'sum(pfi_rejects_total)': 6,
        'sum(pfi_log_lines_total{kind="foreign"})': 9,
        'sum(pfi_log_lines_total{kind="unparsed"})': 3,
        'sum(pfi_log_lines_total)': 790,
        'sum(pfi_log_lines_total{host="mx1"})': 375,
        'sum(pfi_log_lines_total{host="mx2"})': 415,
        'pfi_log_lines_total{host="mx1",kind="foreign"}': 7,
        'count(pfi_index_last_run_timestamp_seconds > 1793664000)': 1,
        'count(pfi_index_last_run_duration_seconds > 0)': 1,
        'pfi_last_log_timestamp_seconds{host="mx2"}': 1793614224,
        'pfi_deferred_messages{host="mx2"}': 1,
        'sum(pfi_recipients_total{status="expired"})': 2,
        'sum(pfi_recipients_total{status="discarded"})': 1,
        'sum(pfi_recipients_total{status="held"})': 1,
        'sum(pfi_recipients_total{status="deleted"})': 1,
        'count(count by (host) (pfi_recipients_total))': 2,
        'pfi_log_file_modified_timestamp_seconds': 1793664000,
    }
    for expr, want in known.items():
        got = value(expr)
        check(got == want, "%s = %s (want %s)" % (expr, got, want))

    dash = json.load(open(os.path.join(src, "contrib/grafana/pfi-dashboard.json")))
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    rule_exprs, lines = [], open(rules).read().split("\n")
    for k, l in enumerate(lines):
        mm = re.match(r"^(\s*)expr:\s*(.*)$", l)
        if not mm:
            continue
        if mm.group(2).strip() != "|":
            rule_exprs.append(mm.group(2))
            continue
        body, ind = [], len(mm.group(1))
        for l2 in lines[k + 1:]:
            if l2.strip() and len(l2) - len(l2.lstrip()) <= ind:
                break
            body.append(l2.strip())
        rule_exprs.append(" ".join(body))
    check(len(exprs) >= 15 and len(rule_exprs) == 7, "found %d dashboard and %d rule expressions" % (len(exprs), len(rule_exprs)))
    time.sleep(3)   # a few samples, so that rate() has two points

    def names_and_labels(q):
        """The pfi families q names (a histogram's series by family) and
        the label names it matches or groups by; a name pfi does not
        expose is returned as is, so that the check below fails."""
        fams = set()
        for n in re.findall(r"\bpfi_[a-z0-9_]+", q):
            base = re.sub(r"_(bucket|sum|count)$", "", n)
            fams.add(base if n not in families and families.get(base) == "histogram" else n)
        used = set(re.findall(r"([a-z_]+)\s*(?:=~|!~|!=|=)\s*\"", q))
        for grp in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", q):
            used |= {x.strip() for x in grp.split(",") if x.strip()}
        return fams, used

    def check_expr(q, what, parts):
        """q names only families pfi exposes and only their labels; each
        of parts (q alone, or q and its sides without the alert threshold)
        evaluates, and returns series when all its families have samples
        (but for the whole of an alert, which fires or not)."""
        fams, used = names_and_labels(q)
        unknown = sorted(f for f in fams if f not in families)
        check(not unknown, "%s names families pfi exposes %s" % (what, unknown or ""))
        known = set().union(*(labels.get(f, set()) for f in fams)) | {"le", "job", "instance"}
        if fams <= set(families):
            check(used <= known, "%s uses labels of its families %s" % (what, sorted(used - known)))
        for k, part in enumerate(parts):
            st, j = query(part)
            check(st == 200 and j.get("status") == "success", "evaluates: " + part[:100])
            if (k > 0 or len(parts) == 1) and names_and_labels(part)[0] <= sampled:
                check(bool(j.get("data", {}).get("result")), "returns series: " + part[:100])

    for e in exprs:
        q = (e.replace("$__rate_interval", "1m").replace("$__range", "5m")
              .replace('host=~"$host"', 'host=~".*"'))
        check_expr(q, "dashboard " + q[:60], [q])
    for e in rule_exprs:
        # "A > 0.05", "A > 100 and B > 50": each side without its threshold
        sides = [re.sub(r"\s*[<>]=?\s*[0-9.]+\s*$", "", x) for x in re.split(r"\s+and\s+", e)]
        check_expr(e, "rule " + e[:60], [e] + sides)
    for var in dash.get("templating", {}).get("list", []):
        mm = re.match(r"label_values\((\w+),\s*(\w+)\)", var.get("definition", ""))
        if var.get("type") != "query":
            continue
        check(mm is not None and mm.group(1) in families and mm.group(2) in labels.get(mm.group(1), ()),
              "dashboard variable %s: %s" % (var["name"], var.get("definition")))
        st, _, b = get(papi + "label/%s/values?%s" % (mm.group(2), urllib.parse.urlencode({"match[]": mm.group(1)})))
        check(st == 200 and json.loads(b).get("data") == ["mx1", "mx2"], "variable %s lists mx1, mx2" % var["name"])

    # Each alert's drilldown carries a pfi search, and each pfi command in
    # it runs on this index (0: rows, 1: none; not 2, a usage error).
    drills = re.findall(r'^\s*drilldown:\s*"(.*)"\s*$', open(rules).read(), re.M)
    check(len(drills) == len(rule_exprs) and all("pfi search " in d for d in drills),
          "every alert's drilldown has a pfi search (%d of %d)" % (
              sum("pfi search " in d for d in drills), len(rule_exprs)))
    for d in drills:
        d = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda mm: {"domain": "example.com"}.get(mm.group(1), "mx1"), d)
        for cmd in d.split(";"):
            words = [w.strip("'") for w in re.findall(r"'[^']*'|\S+", cmd.split("|")[0])]
            if words and words[0] == "pfi":
                r = subprocess.run([pfi, "--db", db] + words[1:], capture_output=True, text=True)
                check(r.returncode in (0, 1), "drilldown runs: %s (exit %d %s)" % (
                    " ".join(words), r.returncode, r.stderr.strip()[:80]))

    # --follow: the same process indexes a growing log and serves it.
    flog, fdb = os.path.join(tmp, "follow.log"), os.path.join(tmp, "follow.db")
    lines = open(os.path.join(src, "testdata/logs/sample.log"), "rb").read().splitlines(True)
    open(flog, "wb").write(b"".join(lines[:400]))
    fol = subprocess.Popen([pfi, "--db", fdb, "metrics", "--listen", "127.0.0.1:0", "--follow", flog],
                           stderr=subprocess.PIPE, text=True)
    procs.append(fol)
    m = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", fol.stderr.readline())
    fbase = "http://127.0.0.1:%d/metrics" % int(m.group(1)) if m else None

    def lines_read():
        t = get(fbase)[2].decode() if fbase else ""
        return sum(float(v) for v in re.findall(r"^pfi_log_lines_total\{[^}]*\} (\S+)$", t, re.M)), t
    n, ftext = lines_read()
    check(n == 400 and "pfi_index_last_run_duration_seconds " in ftext,
          "--follow indexes the log it serves: %s lines (want 400), last run shown" % n)
    open(flog, "ab").write(b"".join(lines[400:]))
    deadline = time.time() + 40
    while time.time() < deadline and n != len(lines):
        time.sleep(1)
        n, ftext = lines_read()
    check(n == len(lines) and re.search(r'^pfi_messages_received_total\{host="mx1",source="pickup"\} 1$', ftext, re.M),
          "--follow serves what the log gained: %s lines (want %d)" % (n, len(lines)))

    # node_exporter's textfile collector reads what `pfi metrics --output`
    # writes (README, contrib/node_exporter).
    tdir = os.path.join(tmp, "textfile")
    os.mkdir(tdir)
    r = subprocess.run([pfi, "--db", db, "metrics", "--output", os.path.join(tdir, "pfi.prom")])
    check(r.returncode == 0 and os.listdir(tdir) == ["pfi.prom"], "pfi metrics --output leaves only pfi.prom")
    nport = free_port()
    ne = subprocess.Popen(["prometheus-node-exporter", "--collector.disable-defaults", "--collector.textfile",
                           "--collector.textfile.directory=" + tdir, "--web.listen-address=127.0.0.1:%d" % nport],
                          stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "node.log"), "w"))
    procs.append(ne)
    deadline, nbody = time.time() + 30, b""
    while time.time() < deadline and b"node_textfile_scrape_error" not in nbody:
        time.sleep(0.2)
        nbody = get("http://127.0.0.1:%d/metrics" % nport)[2]
    ntext = nbody.decode(errors="replace")
    check("node_textfile_scrape_error 0" in ntext, "node_exporter reads pfi.prom without error")
    check('pfi_messages_received_total{host="mx1",source="pickup"} 1\n' in ntext and
          'pfi_log_lines_total{host="mx1",kind="foreign"} 7\n' in ntext, "node_exporter serves pfi's values")

    # Zabbix agent 2: web.page.get of /metrics, and the user parameters of
    # contrib/zabbix/pfi.conf (pointed at this index and this pfi).
    conf = os.path.join(tmp, "zabbix_agent2.conf")
    ups = [l.replace("/var/lib/pfi/index.db", db).replace(" pfi stats", " " + pfi + " stats")
           for l in open(os.path.join(src, "contrib/zabbix/pfi.conf")) if l.startswith("UserParameter=")]
    open(conf, "w").write("Server=127.0.0.1\nHostname=pfi-e2e\nLogType=console\nControlSocket=%s\n%s"
                          % (os.path.join(tmp, "agent.sock"), "".join(ups)))
    def zabbix(key):
        r = subprocess.run(["zabbix_agent2", "-c", conf, "-t", key], capture_output=True, text=True, timeout=60)
        mm = re.search(r"\[s\|(.*)\]\s*$", r.stdout, re.S)
        return r.returncode, mm.group(1) if mm else r.stdout + r.stderr
    rc, out = zabbix("web.page.get[http://127.0.0.1:%d/metrics]" % port)
    check(rc == 0 and "200 OK" in out and 'pfi_log_lines_total{host="mx1",kind="foreign"} 7' in out, "zabbix_agent2 web.page.get of /metrics")
    for key in ("pfi.stats", "pfi.stats.since[10000d]"):
        rc, out = zabbix(key)
        try:
            js = json.loads(out)
        except ValueError:
            js = {}
        check(rc == 0 and js.get("received") == 66 and js.get("rejected") == 6, "zabbix_agent2 %s: JSON with the known answers" % key)
finally:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(tmp, ignore_errors=True)
print("%d failure(s)" % len(fails))
sys.exit(1 if fails else 0)
