#!/usr/bin/env python3
"""Groups a worker's `perf record` by what runs (BENCHMARKS.md, B2): self time per category.

    icf bench throughput --executions 1000 &          # once its worker runs:
    perf record -F 999 -g -p "$(pgrep -f 'icf worker' | tail -1)" -o perf.data -- sleep 10
    python3 deploy/bench/perf-breakdown.py perf.data

Self time only: the kernel's socket time is the database's and HTTP's together, and the
first rule that matches a symbol wins.
"""
import re
import subprocess
import sys

data=sys.argv[1]
out=subprocess.run(["perf","report","-i",data,"--no-children","--sort","comm,dso,sym","--stdio","-g","none"],capture_output=True,text=True).stdout
cats={}
rules=[
 ("database: SQLite and its connection threads", lambda c,d,s: c.startswith("sqlx-sqlite") ),
 ("database: sqlx (statements, rows)", lambda c,d,s: re.search(r"sqlx|postgres|sqlite",s,re.I)),
 ("kernel: sockets and TCP (database and HTTP)", lambda c,d,s: d.startswith("[kernel") and re.search(r"tcp|sock|skb|ip_|net_|__send|sendto|recv|inet|_copy_(to|from)_iter|_raw_spin_unlock_irqrestore|loopback|__dev|napi|softirq",s)),
 ("kernel: waiting and waking (scheduler, futex, epoll)", lambda c,d,s: d.startswith("[kernel") and re.search(r"sched|switch|futex|epoll|wake|hrtimer|irqentry|syscall",s)),
 ("kernel: other", lambda c,d,s: d.startswith("[kernel")),
 ("HTTP (hyper, reqwest, SOCKS5, headers)", lambda c,d,s: re.search(r"hyper|reqwest|http|h2::|socks|HeaderJar|form_urlencoded|url::",s)),
 ("TLS (rustls)", lambda c,d,s: re.search(r"rustls|ring::|aws_lc",s)),
 ("X-Meta-Usdid (P-256)", lambda c,d,s: re.search(r"p256|primeorder|elliptic|ecdsa",s)),
 ("session: Fernet, SHA-256", lambda c,d,s: re.search(r"fernet|aes|hmac|sha2|cbc|base64",s,re.I)),
 ("JSON", lambda c,d,s: re.search(r"serde_json|serde::",s)),
 ("allocator, memcpy", lambda c,d,s: re.search(r"malloc|free|memmove|memcpy|memset|memcmp|realloc|unlink_chunk|_int_|consolidate",s)),
 ("Tokio scheduler", lambda c,d,s: re.search(r"tokio|parking_lot|mio",s)),
 ("icf's own code", lambda c,d,s: re.search(r"icf_",s)),
]
total=0
for line in out.splitlines():
    m=re.match(r"\s+([\d.]+)%\s+(\S+)\s+(\S+)\s+\[[.k]\]\s+(.*)",line)
    if not m: continue
    pct=float(m.group(1)); c,d,s=m.group(2),m.group(3),m.group(4)
    total+=pct
    for name,f in rules:
        if f(c,d,s):
            cats[name]=cats.get(name,0)+pct; break
    else:
        cats["other"]=cats.get("other",0)+pct
for k,v in sorted(cats.items(),key=lambda x:-x[1]):
    print(f"| {k} | {v:.0f} % |")
print("total",round(total))
