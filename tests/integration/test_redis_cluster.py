"""tajir nodes on one PostgreSQL and a Redis Cluster (3 masters, a replica each): the stale-read
checker of test_nodes.py finds nothing stale with the cluster as it is, while a slot migrates
under load (-ASK, -MOVED, -TRYAGAIN), and when a master is SIGKILLed and its replica takes over.

The shop the checker registers is shop 1 in its fresh database: its keys are `{s1}:...`, the
group's `{tajir}:...`.
"""
import time

from conftest import ADMIN_TOKEN, RedisCluster
from test_nodes import Checker, check, make_cluster  # noqa: F401 - make_cluster: a fixture

NODES = 2
SECONDS = 20  # each run; the file stays under about two minutes
OPERATIONS = 2000


def checker(cluster, seed):
    return Checker(cluster, seed=seed, operations=OPERATIONS, seconds=SECONDS)


def keys_in_slot(redis, slot):
    master = redis.master_of(slot)
    return int(master.cli("CLUSTER", "COUNTKEYSINSLOT", str(slot))) if master else 0


def test_no_read_is_stale_on_a_redis_cluster(make_cluster):
    cluster = make_cluster(NODES, redis_class=RedisCluster)
    redis = cluster.redis
    check(checker(cluster, seed=11))
    stats = [n.get("/api/cache/stats", ADMIN_TOKEN).json["tiers"]["redis"] for n in cluster.nodes]
    for s in stats:
        assert s["mode"] == "cluster" and s["masters"] == 3 and s["state"] == "up", s
        assert s["nodes"]["live"] == NODES and s["nodes"]["unpublished"] == 0, s
    assert sum(s["hits"] for s in stats) > 0 and sum(s["invalidations"] for s in stats) > 0
    assert keys_in_slot(redis, redis.slot("{s1}")) > 0, "the shop's keys are in its slot"
    assert keys_in_slot(redis, redis.slot("{tajir}")) > 0, "the group's log is in its slot"


def test_no_read_is_stale_while_the_shops_and_the_groups_slots_migrate(make_cluster):
    cluster = make_cluster(NODES, redis_class=RedisCluster)
    redis = cluster.redis
    slots = [redis.slot("{s1}"), redis.slot("{tajir}")]
    moves = []

    def migrate(checker):
        time.sleep(1)
        for _ in range(3):  # each slot around the masters, under load
            for slot in slots:
                masters = sorted(redis.masters(), key=lambda n: n.port)
                at = redis.master_of(slot)
                target = masters[(masters.index(at) + 1) % len(masters)]
                redis.migrate_slot(slot, target)
                moves.append((slot, at.port, target.port))
                time.sleep(1)

    def verify(report):
        print(f"slot moves: {moves}")
        problems = []
        for slot, _, to in moves[-2:]:
            if redis.master_of(slot).port != to:
                problems.append(f"slot {slot} is not on {to}")
        return problems

    check(checker(cluster, seed=12), migrate, verify=verify)
    assert keys_in_slot(redis, slots[0]) > 0
    redirects = [n.get("/api/cache/stats", ADMIN_TOKEN).json["tiers"]["redis"]["redirects"]
                 for n in cluster.nodes]
    print(f"redirects followed by each node's tier: {redirects}")
    assert sum(redirects) > 0, "the nodes' calls met the migrations"


def test_no_read_is_stale_when_a_master_is_killed_and_its_replica_takes_over(make_cluster):
    cluster = make_cluster(NODES, redis_class=RedisCluster)
    redis = cluster.redis
    shop_slot, group_slot = redis.slot("{s1}"), redis.slot("{tajir}")
    victim = redis.master_of(shop_slot)
    redis.migrate_slot(group_slot, victim)  # the kill takes the shop's keys and the group's
    assert redis.master_of(group_slot) is victim
    figures = {}

    def kill_master(checker):
        time.sleep(2)
        with checker.outage():
            began = time.monotonic()
            victim.kill()
            deadline = began + 20
            while time.monotonic() < deadline:
                successor = redis.master_of(shop_slot)
                if successor not in (None, victim) and redis.wait_ok(0.1):
                    break
                time.sleep(0.05)
            figures["failover_s"] = time.monotonic() - began
            victim.start()  # back as a replica of its successor
            redis.wait_ok()
        time.sleep(3)  # each node's repair (every 2 s) uses Redis again
        for node in cluster.nodes:
            checker.sweep(node)

    def verify(report):
        print(f"failover: {figures}")
        successor = redis.master_of(shop_slot)
        if successor in (None, victim):
            return ["no replica took over the shop's slot"]
        return []

    check(checker(cluster, seed=13), kill_master, verify=verify)
    # Each node's tier comes back: its repair runs every 2 s, later on a loaded machine.
    for n in cluster.nodes:
        deadline = time.monotonic() + 15
        while True:
            s = n.get("/api/cache/stats", ADMIN_TOKEN).json["tiers"]["redis"]
            if (s["state"] == "up" and s["nodes"]["serving"]) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert s["state"] == "up" and s["nodes"]["serving"], s
