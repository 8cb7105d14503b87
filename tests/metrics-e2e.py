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
    rules = os.path.join(src, "contrib/prometheus/pfi-rules.yml")
    r = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True)
    check(r.returncode == 0, "promtool check rules " + r.stdout.strip().replace("\n", " "))

    pport = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    open(cfg, "w").write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                         "rule_files: ['%s']\nscrape_configs:\n  - job_name: pfi\n"
                         "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % (rules, port))
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
        'pfi_log_lines_total{kind="foreign"}': 9,
        'pfi_log_lines_total{kind="unparsed"}': 3,
        'sum(pfi_log_lines_total)': 790,
        'pfi_last_log_timestamp_seconds{host="mx2"}': 1793614224,
        'pfi_deferred_messages{host="mx2"}': 1,
        'sum(pfi_recipients_total{status="expired"})': 2,
        'sum(pfi_recipients_total{status="discarded"})': 1,
        'sum(pfi_recipients_total{status="held"})': 1,
        'sum(pfi_recipients_total{status="deleted"})': 1,
        'count(count by (host) (pfi_recipients_total))': 2,
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
    for e in exprs + rule_exprs:
        q = (e.replace("$__rate_interval", "1m").replace("$__range", "5m")
              .replace('host=~"$host"', 'host=~".*"'))
        st, j = query(q)
        check(st == 200 and j.get("status") == "success", "evaluates: " + q[:100])
    st, j = query('label_values' if False else 'count by (host) (pfi_recipients_total)')
    check(st == 200, "host variable query")

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
          'pfi_log_lines_total{kind="foreign"} 9\n' in ntext, "node_exporter serves pfi's values")

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
    check(rc == 0 and "200 OK" in out and 'pfi_log_lines_total{kind="foreign"} 9' in out, "zabbix_agent2 web.page.get of /metrics")
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
