#!/usr/bin/env python3
"""Write latency past this machine, from the per-hop figures measured here.

A write on one node answers once every other live node has applied its invalidation
(docs/CACHE.md, "Several nodes"): its wait is the publish (INCR + XADD) plus the slowest of the
other nodes' acknowledgements. From bench/tiers.cc's raw samples (TAJIR_WAIT_SAMPLES):
  publish  P ~ the samples with 1 node (no one to wait for)
  ack      A ~ the samples with 2 nodes minus the median publish (clamped at 0): one other
           node's delay from the publish to its acknowledgement seen by the writer
the model draws, for N nodes, P + max(A_1 .. A_{N-1}) with the A_i independent; it is checked
against the measured 3-node figure (--check), which it did not see.

Redis work per write, in commands Redis runs (scripts counted by the calls inside them): the
publish (TIME, GET, INCR, XADD), per other node one XREAD delivery and its acknowledgement (GET,
HSET), and the writer's polls (src/redis/group.cc kLagging: TIME, ZRANGEBYSCORE, an HGET per
other node), one at once and then after sleeps of 100, 200, 400 ... 2,000 us.
Usage: bench/nodes_sim.py SAMPLES [--check P50_US P99_US] [--redis-ops OPS_PER_S]
"""
import argparse
import random
import statistics


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def polls(waited_us):
    """How many times the writer polls the marks while it waits this long after publishing."""
    n, t, pause = 1, 0.0, 100.0
    while t + pause <= waited_us:
        t += pause
        pause = min(2 * pause, 2000.0)
        n += 1
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("samples")
    ap.add_argument("--check", nargs=2, type=float, metavar=("P50_US", "P99_US"))
    ap.add_argument("--redis-ops", type=float, default=0, help="Redis's measured ops/s")
    ap.add_argument("--draws", type=int, default=50_000)
    a = ap.parse_args()
    one, two = [], []
    for line in open(a.samples):
        n, us = line.split()
        (one if n == "1" else two).append(float(us))
    publish_median = statistics.median(one)
    acks = [max(0.0, w - publish_median) for w in two]
    rng = random.Random(42)

    def simulate(nodes):
        waits = []
        for _ in range(a.draws):
            slowest = max((rng.choice(acks) for _ in range(nodes - 1)), default=0.0)
            waits.append(rng.choice(one) + slowest)
        return quantile(waits, 0.5), quantile(waits, 0.99)

    print(f"from {len(one)} publishes and {len(two)} two-node writes: publish p50 "
          f"{publish_median:.0f} us, one node's ack p50 {statistics.median(acks):.0f} us, "
          f"p99 {quantile(acks, 0.99):.0f} us")
    print("| nodes | write wait p50 | write wait p99 | Redis commands per write | writes/s at Redis's capacity |")
    print("|---|---|---|---|---|")
    for nodes in (1, 2, 3, 10, 30, 100):
        p50, p99 = simulate(nodes)
        commands = 4 + 3 * (nodes - 1) + polls(p50 - publish_median) * (2 + nodes - 1)
        cap = f"{a.redis_ops / commands:,.0f}" if a.redis_ops else "-"
        print(f"| {nodes} | {p50 / 1000:.2f} ms | {p99 / 1000:.2f} ms | {commands} | {cap} |")
    if a.check:
        p50, p99 = simulate(3)
        print(f"check, 3 nodes: model p50 {p50:.0f} us, p99 {p99:.0f} us; measured p50 "
              f"{a.check[0]:.0f} us, p99 {a.check[1]:.0f} us ({p50 / a.check[0]:.2f}x, "
              f"{p99 / a.check[1]:.2f}x)")


if __name__ == "__main__":
    main()
