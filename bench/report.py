"""bench/run's bookkeeping: one line per run, rate estimates for minting, and the final table.

  report.py line RECORD LABEL                   one run's summary, for the log
  report.py code-rate RAW SERVER CONC WARM      codes to mint per second of exchanges
  report.py signin-rate RAW SERVER WARM         pending sign-ins to mint per second
  report.py noisy RECORD PCT                    exit 0 when others took over PCT% of core 0
  report.py table RAW OUTDIR MODE SECONDS       results.md, results.json, and the table printed

Definitions (also in BENCHMARKS.md):
  rate      requests/s for single-request rows; flows/s and sign-ins/s (completed units per
            second) for the flow and sign-in rows; requests sent after pre-minted inputs ran
            out are not counted.
  errors    socket errors (connect, read, write, timeout) + responses >= 400 + responses
            below 400 that were not the expected status, summed over the measured runs.
  p50, p99  wrk's latency percentiles per request (for the flow row, per request of the flow).
  RSS       the server's peak resident set (VmHWM, reset before each run), largest of the runs.
  spread    (fastest run - slowest run) / median: the host is shared, and runs vary.
  CPU       the server's user+system time over a run (all its threads), as a share of one core;
            well under 100% means the server waited (on fsync, on PostgreSQL) rather than computed.
  ratios    the median rate over the matching row from the same invocation: the ceiling's
            POST /token for grants, flows and sign-ins, its GET /hello for tokeninfo and
            introspection; oidc-provider's row of the same kind where one exists.
"""

import json
import os
import platform
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SERVERS = {
    "ceiling": "ceiling (bare axum)",
    "oidc": "oidc-provider",
    "sqlite": "Keyway, SQLite",
    "pg": "Keyway, PostgreSQL",
}

# (server, row): (label, unit, ceiling row, peer row)
ROWS = {
    ("ceiling", "hello"): ("GET /hello", "req/s", None, None),
    ("ceiling", "token"): ("POST /token (form in, token JSON out, no storage)", "req/s", None, None),
    ("oidc", "refresh"): ("refresh grant, no id_token", "req/s", "token", None),
    ("oidc", "refresh_idtoken"): ("refresh grant + RS256 id_token", "req/s", "token", None),
    ("oidc", "introspect"): ("introspection", "req/s", "hello", None),
}
for s in ("sqlite", "pg"):
    ROWS.update({
        (s, "refresh"): ("refresh grant (no openid)", "req/s", "token", "refresh"),
        (s, "exchange"): ("code exchange", "req/s", "token", None),
        (s, "tokeninfo"): ("GET /tokeninfo", "req/s", "hello", None),
        (s, "introspect"): ("POST /introspect", "req/s", "hello", "introspect"),
        (s, "flow"): ("whole flow, signed in (4 requests)", "flows/s", "token", None),
        (s, "signin"): ("sign-in (Argon2id m=19456 KiB, t=2, p=1)", "sign-ins/s", "token", None),
    })
COUNTS_COMPLETED = {"flow", "signin"}


def errors(w):
    return w["connect"] + w["read"] + w["write"] + w["timeout"] + w["status"] + w["bad"]


def rate(row, w):
    secs = w["duration_us"] / 1e6
    if row in COUNTS_COMPLETED:
        return w["completed"] / secs
    return (w["requests"] - w["exhausted"]) / secs


def noise(r):
    """Per-core busy and steal shares over a run, from /proc/stat (user nice system idle
    iowait irq softirq steal)."""
    out = {}
    if "stat0" not in r:
        return {"core0_busy": 0, "core1_busy": 0, "steal": 0, "core0_other": 0}
    def parse(text):
        cores = {}
        for part in text.split("cpu")[1:]:
            f = part.split()
            cores[f[0]] = [int(x) for x in f[1:9]]
        return cores
    a, b = parse(r["stat0"]), parse(r["stat1"])
    steal = total_all = 0
    for c in ("0", "1"):
        d = [y - x for x, y in zip(a[c], b[c])]
        total = sum(d) or 1
        busy = total - d[3] - d[4]
        out[f"core{c}_busy"] = 100 * busy / total
        steal += d[7]
        total_all += total
        if c == "0":
            # user + nice + system not spent by the server (interrupt time left out: the
            # server's own network traffic is handled there).
            mine = d[0] + d[1] + d[2]
            out["core0_other"] = max(0.0, 100 * (mine - r.get("server_ticks", 0)) / total)
    out["steal"] = 100 * steal / (total_all or 1)
    return out


def load(raw):
    runs = {}
    with open(raw) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                runs.setdefault((r["server"], r["row"], r["conc"]), []).append(r)
    return runs


def summarize(runs):
    out = {}
    for (server, row, conc), rs in runs.items():
        rates = [rate(row, r["wrk"]) for r in rs]
        out[(server, row, conc)] = {
            "server": server, "row": row, "conc": conc, "tier": rs[0]["tier"],
            "seconds": rs[0]["seconds"], "runs": len(rs),
            "rate": statistics.median(rates),
            "spread_pct": 100 * (max(rates) - min(rates)) / statistics.median(rates) if statistics.median(rates) else 0,
            "rates": [round(x, 1) for x in rates],
            "p50_ms": statistics.median(r["wrk"]["p50_us"] for r in rs) / 1000,
            "p99_ms": statistics.median(r["wrk"]["p99_us"] for r in rs) / 1000,
            "errors": sum(errors(r["wrk"]) for r in rs),
            "exhausted": sum(r["wrk"]["exhausted"] for r in rs),
            "requests_per_s": statistics.median(r["wrk"]["requests"] / (r["wrk"]["duration_us"] / 1e6) for r in rs),
            "rss_mib": max(r["rss_kb"] for r in rs) / 1024,
            "cpu_pct": statistics.median(r.get("cpu_pct_x100", 0) for r in rs) / 100,
            "core0_other_pct": statistics.median(noise(r)["core0_other"] for r in rs),
            "core1_busy_pct": statistics.median(noise(r)["core1_busy"] for r in rs),
            "steal_pct": max(noise(r)["steal"] for r in rs),
        }
    for (server, row, conc), s in out.items():
        label, unit, ceiling, peer = ROWS.get((server, row), (row, "req/s", None, None))
        s["label"], s["unit"] = label, unit
        c = out.get(("ceiling", ceiling, conc)) if ceiling else None
        p = out.get(("oidc", peer, conc)) if peer else None
        q = out.get(("sqlite", row, conc)) if server == "pg" else None
        s["vs_ceiling"] = s["rate"] / c["rate"] if c and c["rate"] else None
        s["ceiling_row"] = f"ceiling {ceiling}" if ceiling else None
        s["p99_vs_ceiling"] = s["p99_ms"] / c["p99_ms"] if c and c["p99_ms"] else None
        s["vs_oidc"] = s["rate"] / p["rate"] if p and p["rate"] else None
        s["vs_sqlite"] = s["rate"] / q["rate"] if q and q["rate"] else None
    order = {k: i for i, k in enumerate(ROWS)}
    return sorted(out.values(), key=lambda s: (list(SERVERS).index(s["server"]), order.get((s["server"], s["row"]), 99), s["conc"]))


def fmt_ratio(x, digits=2):
    if x is None:
        return "—"
    return f"{x:.{digits}f}×" if x < 100 else f"{x:.0f}×"


def fmt_rate(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def machine():
    def sh(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:
            return ""
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "kernel": platform.release(),
        "wrk": sh("sh", "-c", "wrk --version 2>&1 | head -1"), "node": sh("node", "--version"),
        "rustc": sh("rustc", "--version"),
        "postgres": sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-Atc", "show server_version"),
        "git_head": sh("git", "-C", ROOT, "rev-parse", "--short", "HEAD"),
        "uncommitted": sh("git", "-C", ROOT, "diff", "HEAD", "--name-only").split(),
    }


def table(raw, outdir, mode, seconds):
    rows = summarize(load(raw))
    m = machine()
    head = ("| server | row | conn | rate | p50 ms | p99 ms | errors | peak RSS MiB "
            "| spread | server CPU | × ceiling | p99 ÷ ceiling p99 | × oidc-provider | PG ÷ SQLite |")
    lines = [head, "|" + "---|" * 14]
    # Rows whose runs were shorter than the longest say so.
    longest = max((s["seconds"] for s in rows), default=0)
    for s in rows:
        secondary = "" if s["seconds"] == longest else f" ({s['seconds']} s runs)"
        lines.append(
            f"| {SERVERS.get(s['server'], s['server'])} | {s['label']}{secondary} | {s['conc']} "
            f"| {fmt_rate(s['rate'])} {s['unit']} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} "
            f"| {s['errors']}{' (inputs ran out)' if s['exhausted'] else ''} | {s['rss_mib']:.1f} "
            f"| {s['spread_pct']:.0f}% | {s['cpu_pct']:.0f}% | {fmt_ratio(s['vs_ceiling'], 3)} | {fmt_ratio(s['p99_vs_ceiling'], 1)} "
            f"| {fmt_ratio(s['vs_oidc'])} | {fmt_ratio(s['vs_sqlite'])} |")
    runs = max((s["runs"] for s in rows), default=0)
    md = "\n".join([
        f"Keyway benchmark ({mode}): {m['nproc']} cores ({m['cpu']}), {m['memory']}; "
        f"server on core 0, wrk on core 1; median of {runs} run(s) per row; total {seconds} s; "
        f"source {m['git_head']}" + (f" with uncommitted changes to {', '.join(m['uncommitted'])}" if m['uncommitted'] else "") + ".",
        "",
        *lines,
        "",
    ])
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"mode": mode, "total_seconds": int(seconds), "machine": m, "rows": rows}, f, indent=1)
    print(md)
    print(f"written to {outdir}/results.md and results.json")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "line":
        raw, label = args
        with open(raw) as f:
            r = json.loads(f.read().splitlines()[-1])
        w, n = r["wrk"], noise(r)
        print(f"  {label}: {rate(r['row'], w):,.1f}/s ({w['requests']} requests), p50 {w['p50_us'] / 1000:.2f} ms, "
              f"p99 {w['p99_us'] / 1000:.2f} ms, errors {errors(w)}"
              f"{', inputs ran out: ' + str(w['exhausted']) if w['exhausted'] else ''}, RSS {r['rss_kb'] / 1024:.1f} MiB, "
              f"server CPU {r['cpu_pct_x100'] / 100:.0f}%, core 0: {n['core0_busy']:.0f}% busy, "
              f"{n['core0_other']:.0f}% others; core 1 {n['core1_busy']:.0f}% busy; steal {n['steal']:.1f}%")
    elif cmd == "noisy":
        with open(args[0]) as f:
            r = json.loads(f.read().splitlines()[-1])
        sys.exit(0 if noise(r)["core0_other"] > float(args[1]) else 1)
    elif cmd == "code-rate":
        raw, server, conc, warm = args
        rs = load(raw)
        rates = [rate("refresh", r["wrk"]) for r in rs.get((server, "refresh", int(conc)), [])]
        rates += [rate("exchange", r["wrk"]) for r in rs.get((server, "exchange", int(conc)), [])]
        if os.path.exists(warm):
            w = json.load(open(warm))
            if "exhausted" in w:
                rates.append(rate("exchange", w))
        print(int(max(rates)) if rates else 3000)
    elif cmd == "signin-rate":
        raw, server, warm = args
        rates = [50.0]
        for (s, row, _), rs in load(raw).items():
            if s == server and row == "signin":
                rates += [rate("signin", r["wrk"]) for r in rs]
        if os.path.exists(warm):
            rates.append(rate("signin", json.load(open(warm))))
        print(int(max(rates)) + 1)
    elif cmd == "table":
        table(args[0], args[1], args[2], args[3])
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
