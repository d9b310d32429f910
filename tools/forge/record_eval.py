#!/usr/bin/python3
"""Runs the strategy table of the model card (`decodealign eval` per strategy and reward on the test split) and
stores it in report.json under "strategy_eval", then re-renders the card. The figures are the CLI's own output.

    /usr/bin/python3 tools/forge/record_eval.py --problems 300 --n 16 [--out models/arith]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import model_card  # noqa: E402

# Strategies whose output depends on the reward; the others run once and are shown in every row.
REWARD_STRATEGIES = ["bon", "wmv", "qalign", "smc", "args"]
OTHER_STRATEGIES = ["sample", "greedy", "mv", "vas"]
ORDER = ["sample", "greedy", "bon", "mv", "wmv", "qalign", "vas", "args", "smc"]


def run(cli: str, strategy: str, reward: str, problems: int, n: int) -> dict:
    cmd = [cli, "eval", "--task", "arith", "--strategy", strategy, "--n", str(n), "--problems", str(problems),
           "--reward", reward, "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    res = json.loads(out)
    print(f"{reward:>10} {strategy:>7}: {res['accuracy']:.3f} ({res.get('wall_seconds', 0):.0f} s)", flush=True)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "arith"))
    ap.add_argument("--problems", type=int, default=300)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--rewards", default="verifier,likelihood")
    ap.add_argument("--only", default=None,
                    help="comma-separated strategies to re-run; the other figures are kept from report.json")
    ap.add_argument("--cli", default=os.path.join(ROOT, "src", "Cli", "bin", "Release", "net10.0", "decodealign"))
    args = ap.parse_args()
    rewards = args.rewards.split(",")
    path = os.path.join(args.out, "report.json")
    with open(path) as f:
        report = json.load(f)
    only = set(args.only.split(",")) if args.only else set(ORDER)
    old = {row["reward"]: row["accuracy"] for row in report.get("strategy_eval", {}).get("rows", [])}
    shared = {s: run(args.cli, s, rewards[0], args.problems, args.n)["accuracy"] if s in only else old[rewards[0]][s]
              for s in OTHER_STRATEGIES}
    rows = []
    for reward in rewards:
        acc = dict(shared)
        for s in REWARD_STRATEGIES:
            acc[s] = run(args.cli, s, reward, args.problems, args.n)["accuracy"] if s in only else old[reward][s]
        rows.append({"reward": reward, "accuracy": {s: acc[s] for s in ORDER}})
    report["strategy_eval"] = {
        "command": f"`decodealign eval --task arith --strategy S --n {args.n} --problems {args.problems} --reward R` "
                   f"(test split, seed 0; sample, greedy, mv and vas take no reward and are shown in every row):",
        "rows": rows}
    with open(path, "w") as f:
        json.dump(report, f, indent=2, allow_nan=False)
        f.write("\n")
    model_card.write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
