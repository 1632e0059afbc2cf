"""Medians over rounds, ratios against doorman, the targets of the issue, as markdown."""

import statistics

from .scenarios import CASES, BY_KEY

SCENARIO_TITLES = {
    1: "Proxy overhead (near-free backend)",
    2: "gunicorn sync, small response",
    3: "Static files",
    4: "Slow-client attacks beside a normal load",
    5: "Keep-alive against a new connection per request",
    6: "Memory per idle keep-alive connection",
    7: "Slow uploads beside a normal load",
    8: "Sync-worker saturation",
    9: "Worker recycling (gunicorn and uWSGI --max-requests)",
}


def median(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def attack_ratio(results, case, proxy):
    """Median over rounds of attacked req/s / unattacked req/s in the same round."""
    attacked = results.get(case.key, {}).get(proxy, [])
    base = results.get(case.baseline, {}).get(proxy, [])
    ratios = [a["rps"] / b["rps"] for a, b in zip(attacked, base)
              if a.get("rps") is not None and b.get("rps")]
    return statistics.median(ratios) if ratios else None


def summarize(results, proxies):
    """{case key: {proxy: {figure: median}}}, with the attack ratios added."""
    out = {}
    for case in CASES:
        if case.key not in results:
            continue
        out[case.key] = {}
        for proxy in proxies:
            runs = results[case.key].get(proxy)
            if not runs:
                continue
            # A run that failed has "failed": its error text; the idle-memory case also
            # has "failed": the number of connections that could not be opened.
            failed = [r for r in runs if isinstance(r.get("failed"), str)]
            keys = {k for r in runs for k in r if not (k == "failed" and r in failed)}
            fig = {k: median([r for r in runs if r not in failed], k) for k in keys}
            fig["failures"] = len(failed)
            fig["runs"] = len(runs)
            if case.baseline:
                fig["of_unattacked"] = attack_ratio(results, case, proxy)
            out[case.key][proxy] = fig
    return out


def _fmt(v, digits=0, pct=False):
    if v is None:
        return "–"
    if pct:
        return "%.0f%%" % (v * 100)
    if isinstance(v, float) and digits == 0 and abs(v) < 10 and v != int(v):
        return "%.1f" % v
    return "{:,.{d}f}".format(v, d=digits)


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return "%.2fx" % (a / b)


# Columns per kind of case: (heading, figure key, formatter)
BASE_COLS = [("req/s", "rps", lambda v: _fmt(v)), ("p50 ms", "p50_ms", lambda v: _fmt(v, 2)),
             ("p99 ms", "p99_ms", lambda v: _fmt(v, 2)), ("errors", "errors", _fmt),
             ("non-2xx", "non2xx", _fmt), ("CPU µs/req", "cpu_us", lambda v: _fmt(v, 1)),
             ("of which kernel", "sys_us", lambda v: _fmt(v, 1)),
             ("load gen. busy", "load_busy", lambda v: _fmt(v, pct=True))]


def _columns(case):
    cols = list(BASE_COLS)
    if case.key == "static-1m":
        cols.insert(1, ("MB/s", "mbps", lambda v: _fmt(v)))
    if case.key == "saturation":
        cols.insert(1, ("of 400 req/s", "of_limit", lambda v: _fmt(v, pct=True)))
        cols.insert(2, ("backend direct req/s", "direct_rps", lambda v: _fmt(v)))
        cols.insert(3, ("of direct", "of_direct", lambda v: _fmt(v, pct=True)))
    if case.baseline:
        cols.insert(1, ("of unattacked", "of_unattacked", lambda v: _fmt(v, pct=True)))
        cols.append(("attacker CPU", "attacker_cpu", lambda v: _fmt(v, pct=True)))
    if case.key.startswith("recycling"):
        cols.insert(0, ("requests", "requests", _fmt))
    if case.key.startswith(("ka-", "new-")):
        cols = [c for c in cols if c[1] not in ("p50_ms", "p99_ms")]
    if case.key.endswith("-pipelined"):
        # wrk times a batch of pipelined requests, not an answer, and its percentiles
        # are then wrong (p90 and p99 read 0: it ranks batches among answers).
        cols = [c for c in cols if c[1] not in ("p50_ms", "p99_ms")]
    if case.key == "idle-memory":
        cols = [("connections", "connections", _fmt), ("failed", "failed", _fmt),
                ("RSS before", "rss_before", _fmt), ("RSS after", "rss_after", _fmt),
                ("bytes/conn", "bytes_per_conn", _fmt)]
    return cols


def _ratio_key(case):
    """The figure 'doorman ÷ other' is shown for, and whether higher is better."""
    if case.key == "idle-memory":
        return "bytes_per_conn", "lower"
    if case.baseline:
        return "of_unattacked", "higher"
    if case.key == "static-1m":
        return "mbps", "higher"
    if case.key == "overhead":
        return "cpu_us", "lower"
    return "rps", "higher"


def case_table(case, summary, proxies):
    cols = _columns(case)
    rkey, better = _ratio_key(case)
    head = ["proxy"] + [c[0] for c in cols] + ["doorman ÷ it (%s, %s is better)" % (
        dict(cols_name(cols)).get(rkey, rkey), better)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    mine = summary.get("doorman", {}).get(rkey)
    for proxy in proxies:
        fig = summary.get(proxy)
        if fig is None:
            continue
        row = [proxy] + [fmt(fig.get(key)) for _, key, fmt in cols]
        row.append("" if proxy == "doorman" else _ratio(mine, fig.get(rkey)))
        if fig.get("failures"):
            row[0] += " (%d of %d runs failed)" % (fig["failures"], fig["runs"])
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def cols_name(cols):
    return [(key, name) for name, key, _ in cols]


# --- targets -------------------------------------------------------------------------


def _get(summary, key, proxy, fig):
    return summary.get(key, {}).get(proxy, {}).get(fig)


def _anchors(summary, key, fig, best):
    vals = [(p, v) for p, f in summary.get(key, {}).items()
            if p != "doorman" and (v := f.get(fig)) is not None]
    if not vals:
        return None, None
    return best(vals, key=lambda pv: pv[1])


def targets(summary):
    """Rows: (scenario, target, doorman, reference, met) for every target measured."""
    rows = []

    def add(scen, text, mine, ref, ok):
        rows.append((scen, text, mine, ref, "yes" if ok else ("no" if ok is not None else "–")))

    cpu = _get(summary, "overhead", "doorman", "cpu_us")
    p, best = _anchors(summary, "overhead", "cpu_us", min)
    if cpu is not None and best is not None:
        ref = "%s %.1f µs (x0.65 = %.1f)" % (p, best, best * 0.65)
        kernel = _get(summary, "overhead", p, "sys_us")
        if kernel is not None:
            ref += "; %s's kernel time alone: %.1f µs" % (p, kernel)
        add(1, "CPU per proxied request ≤ 0.65x best anchor", "%.1f µs" % cpu, ref,
            cpu <= 0.65 * best)
    mine, h2o = _get(summary, "static-1k", "doorman", "rps"), _get(summary, "static-1k", "h2o", "rps")
    if mine is not None and h2o is not None:
        ref = "h2o %s" % _fmt(h2o)
        busy = [_get(summary, "static-1k", p, "load_busy") for p in ("doorman", "h2o")]
        if None not in busy and min(busy) >= 0.95:
            # The client's core set the pace for both: say so, with the figure that is
            # still fair (CPU per request).
            cpu = [_get(summary, "static-1k", p, "cpu_us") for p in ("doorman", "h2o")]
            ref += " (the load generator was %s / %s busy: client-bound" % (
                _fmt(busy[0], pct=True), _fmt(busy[1], pct=True))
            ref += "; CPU µs/req %.1f vs %.1f)" % tuple(cpu) if None not in cpu else ")"
        add(3, "1 KiB: req/s ≥ 1.1x h2o", _fmt(mine), ref, mine >= 1.1 * h2o)
    mine, ngx = _get(summary, "static-64k", "doorman", "rps"), _get(summary, "static-64k", "nginx", "rps")
    p99, h2o99 = (_get(summary, "static-64k", "doorman", "p99_ms"),
                  _get(summary, "static-64k", "h2o", "p99_ms"))
    if None not in (mine, ngx, p99, h2o99):
        add(3, "64 KiB: req/s ≥ nginx, p99 ≤ h2o", "%s, p99 %.2f ms" % (_fmt(mine), p99),
            "nginx %s, h2o p99 %.2f ms" % (_fmt(ngx), h2o99), mine >= ngx and p99 <= h2o99)
    # The same targets with the client's cost cut 16-fold (pipelined batches): a figure
    # the server, not wrk, sets.
    mine = _get(summary, "static-1k-pipelined", "doorman", "rps")
    h2o = _get(summary, "static-1k-pipelined", "h2o", "rps")
    if mine is not None and h2o is not None:
        add(3, "1 KiB pipelined: req/s ≥ 1.1x h2o", _fmt(mine), "h2o %s" % _fmt(h2o),
            mine >= 1.1 * h2o)
    mine = _get(summary, "static-64k-pipelined", "doorman", "rps")
    ngx = _get(summary, "static-64k-pipelined", "nginx", "rps")
    if mine is not None and ngx is not None:
        add(3, "64 KiB pipelined: req/s ≥ nginx", _fmt(mine), "nginx %s" % _fmt(ngx),
            mine >= ngx)
    mine = _get(summary, "static-1m", "doorman", "mbps")
    p, best = _anchors(summary, "static-1m", "mbps", max)
    if mine is not None and best is not None:
        add(3, "1 MiB: MB/s ≥ best anchor", _fmt(mine), "%s %s" % (p, _fmt(best)), mine >= best)
    for key in ("slowloris-own", "slowread-own", "uploads-own"):
        mine = _get(summary, key, "doorman", "of_unattacked")
        if mine is not None:
            add(BY_KEY[key].scenario, "%s: ≥ 95%% of unattacked" % key, _fmt(mine, pct=True),
                "", mine >= 0.95)
    for key in ("slowloris-sht", "slowread-sht", "uploads-sht"):
        mine = _get(summary, key, "doorman", "of_unattacked")
        p, best = _anchors(summary, key, "of_unattacked", max)
        if mine is not None and best is not None:
            add(BY_KEY[key].scenario, "%s: ≥ best anchor's ratio" % key, _fmt(mine, pct=True),
                "%s %s" % (p, _fmt(best, pct=True)), mine >= best)
    for backend in ("gunicorn", "paste"):
        ka = _get(summary, "ka-" + backend, "doorman", "rps")
        new = _get(summary, "new-" + backend, "doorman", "rps")
        if ka is not None and new is not None:
            add(5, "keep-alive ≥ new connections (%s)" % backend,
                "%s vs %s req/s" % (_fmt(ka), _fmt(new)), "", ka >= new)
    mem = _get(summary, "idle-memory", "doorman", "bytes_per_conn")
    if mem is not None:
        p, best = _anchors(summary, "idle-memory", "bytes_per_conn", min)
        add(6, "≤ 512 bytes per idle connection", "%s B" % _fmt(mem),
            "%s %s B" % (p, _fmt(best)) if p else "", mem <= 512)
    rps = _get(summary, "saturation", "doorman", "rps")
    bad = _get(summary, "saturation", "doorman", "non2xx")
    if rps is not None:
        direct = _get(summary, "saturation", "doorman", "direct_rps")
        ref = ("gunicorn alone, same load: %s req/s (doorman %s of it)"
               % (_fmt(direct), _fmt(rps / direct, pct=True)) if direct else "")
        add(8, "≥ 97% of 400 req/s, zero 5xx", "%s req/s, %s non-2xx" % (_fmt(rps), _fmt(bad)),
            ref, rps >= 388 and not bad)
    for key, backend in (("recycling", "gunicorn"), ("recycling-uwsgi", "uWSGI")):
        bad = _get(summary, key, "doorman", "non2xx")
        err = _get(summary, key, "doorman", "errors")
        if bad is not None:
            add(9, "zero 5xx while %s workers recycle" % backend,
                "%s non-2xx, %s failed" % (_fmt(bad), _fmt(err)), "", bad == 0 and not err)
    return rows


def markdown(results, proxies, meta):
    summary = summarize(results, proxies)
    out = ["# doorman side by side with nginx, HAProxy and h2o — %s" % meta["date"], ""]
    out += ["- %s: %s" % (k, v) for k, v in meta["lines"]]
    out += ["", "Figures are medians over the rounds; `doorman ÷ it` is doorman's figure "
            "divided by that proxy's. CPU µs/req is the proxy process tree's utime+stime "
            "(from /proc/PID/stat) over the run divided by the requests completed. Idle memory "
            "and worker recycling run once (first round), each against fresh processes "
            "or a fixed number of requests.", ""]
    rows = targets(summary)
    if rows:
        out += ["## Targets of the benchmark issue", "",
                "| scenario | target | doorman | reference | met |", "|---|---|---|---|---|"]
        out += ["| (%d) | %s | %s | %s | %s |" % r for r in rows]
        out.append("")
    for scen in sorted({c.scenario for c in CASES}):
        cases = [c for c in CASES if c.scenario == scen and c.key in summary]
        if not cases:
            continue
        out += ["## (%d) %s" % (scen, SCENARIO_TITLES[scen]), ""]
        for case in cases:
            out += ["**%s** (`%s`)" % (case.title, case.key), "",
                    case_table(case, summary[case.key], proxies), ""]
    return "\n".join(out) + "\n", summary
