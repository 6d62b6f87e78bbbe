#!/usr/bin/env python3
"""Sends several requests to the local kube-apiserver at the same instant.

    concurrent_requests.py CLUSTER_DIR 'METHOD PATH [JSON-BODY]' ...

Each request gets its own TLS connection (admin client certificate from
CLUSTER_DIR/pki), opened and handshaken first; a barrier then releases all the
requests together, so the apiserver admits them concurrently. Prints one line
per request, in argument order: the HTTP status code and the Status reason or
the object's name. PATCH bodies are JSON merge patches. Exits 2 on a transport
error, 0 otherwise (the statuses are the result).
"""
import http.client
import json
import ssl
import sys
import threading

TIMEOUT_S = 30


def main() -> int:
    cluster = sys.argv[1]
    specs = sys.argv[2:]
    port = None
    with open(f"{cluster}/ports.env") as f:
        for line in f:
            if line.startswith("API_PORT="):
                port = int(line.split("=", 1)[1])
    ctx = ssl.create_default_context(cafile=f"{cluster}/pki/ca.crt")
    ctx.load_cert_chain(f"{cluster}/pki/admin.crt", f"{cluster}/pki/admin.key")

    conns, reqs = [], []
    for spec in specs:
        parts = spec.split(" ", 2)
        method, path = parts[0], parts[1]
        body = parts[2] if len(parts) > 2 else None
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=TIMEOUT_S)
        c.connect()  # TCP and TLS before the barrier
        conns.append(c)
        reqs.append((method, path, body))

    barrier = threading.Barrier(len(conns))
    results = [None] * len(conns)

    def run(i):
        method, path, body = reqs[i]
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = (
                "application/merge-patch+json" if method == "PATCH" else "application/json")
        barrier.wait()
        try:
            conns[i].request(method, path, body=body, headers=headers)
            r = conns[i].getresponse()
            data = r.read()
            try:
                doc = json.loads(data)
            except ValueError:
                doc = {}
            what = doc.get("reason") or doc.get("metadata", {}).get("name") or ""
            results[i] = f"{r.status} {what}"
        except OSError as e:
            results[i] = f"error {e}"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT_S + 5)
    rc = 0
    for r in results:
        print(r if r is not None else "error timeout")
        if r is None or r.startswith("error"):
            rc = 2
    return rc


if __name__ == "__main__":
    sys.exit(main())
