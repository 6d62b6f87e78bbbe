#!/usr/bin/env python3
"""Pod-create latency at a real kube-apiserver, with and without netpol-guard
registered as a ValidatingWebhookConfiguration.

  apiserver_latency.py --apiserver https://127.0.0.1:PORT --pki DIR
      --webhook-url https://127.0.0.1:PORT/validate --webhook-ca FILE
      --metrics http://127.0.0.1:PORT/metrics --pod FILE --namespace NS
      [--rounds 5] [--requests 500] [--warmup 20]

Each request is a server-side dry-run create (POST .../pods?dryRun=All): the
apiserver runs authentication, authorization, every admission plugin and the
webhook, and skips only the etcd write, so the two modes differ by the webhook
call alone and etcd's fsync jitter stays out of the figures. One keep-alive
connection, one request at a time, admin client certificate. Rounds alternate
the order of the two modes. Prints one JSON line per round and mode.
"""

import argparse
import base64
import http.client
import json
import ssl
import statistics
import sys
import time
import urllib.parse
import urllib.request

WEBHOOK_NAME = "netpol-guard.k8s-security-pro.io"
VWC_PATH = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
SWITCH_TIMEOUT_S = 30


class apiserver:
    def __init__(self, url, pki):
        u = urllib.parse.urlparse(url)
        ctx = ssl.create_default_context(cafile=f"{pki}/ca.crt")
        ctx.load_cert_chain(f"{pki}/admin.crt", f"{pki}/admin.key")
        self.conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)

    def call(self, method, path, body=None):
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=body, headers=headers)
        res = self.conn.getresponse()
        return res.status, res.read()


def webhook_calls(metrics_url):
    with urllib.request.urlopen(metrics_url, timeout=5) as r:
        text = r.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("netpol_guard_admission_requests_total"))


def configuration(url, ca_pem_b64, namespace):
    return json.dumps({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": WEBHOOK_NAME},
        "webhooks": [{
            "name": WEBHOOK_NAME,
            "clientConfig": {"url": url, "caBundle": ca_pem_b64},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                       "resources": ["pods"]}],
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 5,
            # Only the benchmark's namespace: nothing else in the cluster is affected.
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        }],
    })


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--apiserver", required=True)
    ap.add_argument("--pki", required=True)
    ap.add_argument("--webhook-url", required=True)
    ap.add_argument("--webhook-ca", required=True)
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--pod", required=True)
    ap.add_argument("--namespace", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=20)
    a = ap.parse_args()

    with open(a.webhook_ca, "rb") as f:
        ca_b64 = base64.b64encode(f.read()).decode()
    with open(a.pod, "rb") as f:
        pod = f.read()
    api = apiserver(a.apiserver, a.pki)
    create_path = f"/api/v1/namespaces/{a.namespace}/pods?dryRun=All"

    def create():
        t0 = time.perf_counter()
        status, body = api.call("POST", create_path, pod)
        dt = time.perf_counter() - t0
        if status != 201:
            raise SystemExit(f"pod create answered {status}: {body[:300]!r}")
        return dt

    def switch(on):
        if on:
            status, body = api.call("POST", VWC_PATH, configuration(a.webhook_url, ca_b64,
                                                                     a.namespace))
            if status != 201:
                raise SystemExit(f"create ValidatingWebhookConfiguration: {status} {body[:300]!r}")
        else:
            status, body = api.call("DELETE", f"{VWC_PATH}/{WEBHOOK_NAME}")
            if status not in (200, 202):
                raise SystemExit(f"delete ValidatingWebhookConfiguration: {status} {body[:300]!r}")
        # The apiserver applies the change from its informer, asynchronously:
        # wait until creates do (on) or do not (off, 10 in a row) reach netpol-guard.
        deadline = time.monotonic() + SWITCH_TIMEOUT_S
        quiet = 0
        while time.monotonic() < deadline:
            before = webhook_calls(a.metrics)
            create()
            reached = webhook_calls(a.metrics) > before
            if on and reached:
                return
            quiet = 0 if reached else quiet + 1
            if not on and quiet >= 10:
                return
            time.sleep(0.05)
        raise SystemExit(f"the apiserver did not {'start' if on else 'stop'} calling the webhook "
                         f"within {SWITCH_TIMEOUT_S} s")

    registered = False
    try:
        for r in range(a.rounds):
            modes = ["none", "netpol-guard"] if r % 2 == 0 else ["netpol-guard", "none"]
            for mode in modes:
                want = mode == "netpol-guard"
                if want != registered:
                    switch(want)
                    registered = want
                for _ in range(a.warmup):
                    create()
                calls0 = webhook_calls(a.metrics)
                samples = sorted(create() * 1000 for _ in range(a.requests))
                calls = webhook_calls(a.metrics) - calls0
                if want and calls < a.requests:
                    raise SystemExit(f"webhook saw {calls:.0f} of {a.requests} creates")

                def pct(p):
                    return samples[min(len(samples) - 1, round(p / 100 * (len(samples) - 1)))]
                print(json.dumps({"kind": "apiserver", "webhook": mode, "iter": r + 1,
                                  "n": len(samples), "webhook_calls": calls,
                                  "p50_ms": round(pct(50), 3), "p99_ms": round(pct(99), 3),
                                  "mean_ms": round(statistics.fmean(samples), 3)}), flush=True)
    finally:
        if registered:
            api.call("DELETE", f"{VWC_PATH}/{WEBHOOK_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
