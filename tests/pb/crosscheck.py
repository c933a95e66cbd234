"""Cross-check `gongzhi pb count` against pabutools 1.2.3 (PyPI), an independent implementation.

Generates seeded random instances (approval and cumulative, with ties in votes, costs and
prices, and numeric ids so that "10" < "2" matters), writes them as .pb files, counts each with
pabutools and with the gongzhi binary, and compares the funded sets. Then does the same on the
real elections in a folder (read in place), skipping a rule on a file when pabutools takes longer
than --timeout seconds (said so in the output).

Rules and their pabutools twins (tie-breaking: lexico_tie_breaking = first project name):
  greedy    greedy_utilitarian_welfare with Cost_Sat (approval: orders by votes) or, for
            cumulative ballots, the additive satisfaction points x cost (orders by points)
  mes       method_of_equal_shares with Cost_Sat (approval) / Additive_Cardinal_Sat (cumulative)
  mes-add1  the same with voter_budget_increment=1
  phragmen  sequential_phragmen (approval only)

Exit status 1 on any mismatch, with the instance printed.
"""
import argparse
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time

from pabutools.election import (
    AdditiveSatisfaction,
    Additive_Cardinal_Sat,
    Cost_Sat,
    parse_pabulib,
)
from pabutools.election.profile import AbstractApprovalProfile
from pabutools.rules import (
    greedy_utilitarian_welfare,
    method_of_equal_shares,
    sequential_phragmen,
)
from pabutools.tiebreaking import lexico_tie_breaking


def points_cost_sat_func(instance, profile, ballot, project, precomputed_values):
    return ballot.get(project, 0) * project.cost


class Points_Cost_Sat(AdditiveSatisfaction):
    """Greedy by points for cumulative ballots: total satisfaction / cost = points."""

    def __init__(self, instance, profile, ballot):
        AdditiveSatisfaction.__init__(self, instance, profile, ballot, points_cost_sat_func)


def pabutools_count(path, rule):
    instance, profile = parse_pabulib(path)
    approval = isinstance(profile, AbstractApprovalProfile)
    if rule == "greedy":
        sat = Cost_Sat if approval else Points_Cost_Sat
        out = greedy_utilitarian_welfare(instance, profile, sat_class=sat, tie_breaking=lexico_tie_breaking)
    elif rule in ("mes", "mes-add1"):
        sat = Cost_Sat if approval else Additive_Cardinal_Sat
        inc = 1 if rule == "mes-add1" else None
        out = method_of_equal_shares(
            instance, profile, sat_class=sat, tie_breaking=lexico_tie_breaking, voter_budget_increment=inc
        )
    elif rule == "phragmen":
        out = sequential_phragmen(instance, profile, tie_breaking=lexico_tie_breaking)
    else:
        raise ValueError(rule)
    return sorted(p.name for p in out)


def _child(path, rule, queue):
    try:
        queue.put(("ok", pabutools_count(path, rule)))
    except Exception as e:  # reported by the parent
        queue.put(("error", repr(e)))


def pabutools_count_with_timeout(path, rule, timeout):
    queue = multiprocessing.Queue()
    proc = multiprocessing.Process(target=_child, args=(path, rule, queue))
    proc.start()
    t = time.time()
    while proc.is_alive() and time.time() - t < timeout:
        try:
            status, value = queue.get(timeout=0.5)
            proc.join()
            return status, value, time.time() - t
        except Exception:
            pass
    if proc.is_alive():
        proc.kill()
        proc.join()
        return "timeout", None, time.time() - t
    status, value = queue.get()
    return status, value, time.time() - t


def gongzhi_count(binary, path, rule, timeout=None):
    t = time.time()
    res = subprocess.run(
        [binary, "pb", "count", "--rule", rule, path], capture_output=True, text=True, timeout=timeout
    )
    if res.returncode != 0:
        raise RuntimeError(f"gongzhi pb count --rule {rule} {path} failed: {res.stderr}")
    return sorted(line for line in res.stdout.splitlines() if line), time.time() - t


def write_pb(path, budget, projects, votes, cumulative):
    with open(path, "w", encoding="utf-8") as f:
        f.write("META\nkey;value\n")
        f.write(f"description;generated for the cross-check\nnum_projects;{len(projects)}\nnum_votes;{len(votes)}\n")
        f.write(f"budget;{budget}\nvote_type;{'cumulative' if cumulative else 'approval'}\n")
        f.write("PROJECTS\nproject_id;cost\n")
        for pid, cost in projects:
            f.write(f"{pid};{cost}\n")
        f.write("VOTES\n" + ("voter_id;vote;points\n" if cumulative else "voter_id;vote\n"))
        for i, ballot in enumerate(votes):
            ids = ",".join(p for p, _ in ballot)
            if cumulative:
                f.write(f"{i};{ids};{','.join(str(x) for _, x in ballot)}\n")
            else:
                f.write(f"{i};{ids}\n")


def random_instance(rng, cumulative):
    n = rng.randint(2, 12)
    numeric = rng.random() < 0.5
    ids = [str(i + 1) if numeric else f"p{rng.randint(0, 99):02d}" for i in range(n)]
    ids = list(dict.fromkeys(ids))
    # Few distinct costs and small electorates make ties in votes, prices and loads common.
    costs = [rng.choice([5, 10, 10, 15, 20, 30, 40, 60]) for _ in ids]
    projects = list(zip(ids, costs))
    total = sum(costs)
    budget = rng.randint(max(1, total // 5), total)
    voters = rng.randint(1, 40)
    votes = []
    pattern = None
    for _ in range(voters):
        if pattern is not None and rng.random() < 0.3:
            votes.append(list(pattern))  # identical ballots
            continue
        # pabutools cannot read an empty cumulative ballot; empty approval ballots are kept.
        k = rng.randint(0 if (rng.random() < 0.05 and not cumulative) else 1, min(4, len(ids)))
        chosen = rng.sample(ids, k)
        ballot = [(p, rng.randint(1, 5) if cumulative else 1) for p in chosen]
        votes.append(ballot)
        pattern = ballot
    return budget, projects, votes


FUNDED = [0]


def compare(binary, path, rules, label, timeout=None, show=None):
    failures = 0
    for rule in rules:
        if timeout is None:
            t = time.time()
            want = pabutools_count(path, rule)
            py_s = time.time() - t
        else:
            status, want, py_s = pabutools_count_with_timeout(path, rule, timeout)
            if status == "timeout":
                print(f"  {label} {rule}: SKIPPED, pabutools took more than {timeout:.0f} s")
                continue
            if status == "error":
                print(f"FAIL: {label} {rule}: pabutools raised {want}")
                failures += 1
                continue
        try:
            got, rs_s = gongzhi_count(binary, path, rule, timeout)
        except subprocess.TimeoutExpired:
            print(f"  {label} {rule}: SKIPPED, the gongzhi debug binary took more than {timeout:.0f} s")
            continue
        FUNDED[0] += len(got)
        if got != want:
            failures += 1
            print(f"FAIL: {label} {rule}: gongzhi funded {got}, pabutools funded {want}")
            if show:
                print(open(path, encoding="utf-8").read())
        elif timeout is not None:
            print(f"  {label} {rule}: same {len(got)} funded (pabutools {py_s:.1f} s, gongzhi {rs_s:.2f} s)")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--instances", type=int, default=60)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--real", default=None, help="folder of real .pb files")
    ap.add_argument("--timeout", type=float, default=240.0)
    ap.add_argument("--max-bytes", type=int, default=0,
                    help="compare only real files up to this size (0: all); the largest are the benchmark's")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    failures = 0
    counted = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.instances):
            cumulative = i % 3 == 2
            budget, projects, votes = random_instance(rng, cumulative)
            path = os.path.join(tmp, f"instance{i:03d}.pb")
            write_pb(path, budget, projects, votes, cumulative)
            rules = ["greedy", "mes", "mes-add1"] + ([] if cumulative else ["phragmen"])
            failures += compare(args.bin, path, rules, f"instance {i}", show=True)
            counted += 1
    print(f"pb cross-check: {counted} generated instances, {FUNDED[0]} funded projects compared, {failures} mismatches")
    if args.real and os.path.isdir(args.real):
        for name in sorted(os.listdir(args.real)):
            if not name.endswith(".pb"):
                continue
            path = os.path.join(args.real, name)
            if args.max_bytes and os.path.getsize(path) > args.max_bytes:
                print(f"real election {name}: larger than {args.max_bytes} bytes, left to tests/pb/bench.sh")
                continue
            with open(path, encoding="utf-8") as f:
                cumulative = "vote_type;cumulative" in f.read(4000)
            rules = ["greedy", "mes"] + ([] if cumulative else ["phragmen"])
            print(f"real election {name}:")
            failures += compare(args.bin, path, rules, name, timeout=args.timeout)
    elif args.real:
        print(f"no folder {args.real}: the real elections were not compared")
    if failures:
        print(f"pb cross-check FAILED: {failures} mismatch(es)")
        sys.exit(1)
    print("pb cross-check passed")


if __name__ == "__main__":
    main()
