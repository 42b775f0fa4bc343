"""HpBandSter's BOHB and Optuna's TPE with its Hyperband pruner on an objective table.

The table (JSON, written by `bench_search::Table`, e.g. by
`cargo run --release -p bench-workloads --example search_comparison 20 sharpe_ratio DIR`) holds
every valid configuration's score at each fidelity and what one evaluation costs there. Both
libraries query it under the rules this project's searches follow, so that all of them see
identical values and spend the same budget:

* a budget is a share of the grid's cost (every configuration once at full fidelity); the
  first evaluation that does not fit in what is left ends the run;
* an evaluation already made (same configuration, same fidelity) is answered again at no cost;
* the best found is the best score evaluated at full fidelity;
* a run that evaluates nothing new for a long stretch has exhausted the space and ends.

HpBandSter (0.7.4) runs its own `BOHB` config generator and `SuccessiveHalving` iterations
with the defaults of `hpbandster.optimizers.BOHB` (η = 3, budgets 1/9, 1/3, 1, 15% good,
64 samples, a third random, bandwidth factor 3); the loop that hands out its runs is
`Master.run`'s with one synchronous worker, written out here because `Master` needs a Pyro
name server and network round trips that would only add time. Optuna (5.1) runs
`TPESampler(seed)` with `HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3)`,
each trial reporting its score at steps 1, 3 and 9 (fidelities 1/9, 1/3, 1). A configuration
outside the space's constraint (fast ≥ slow) is forbidden in HpBandSter's configuration space
and pruned at no cost in Optuna (a pruned trial without a report counts as worst).

Usage: python search_reference.py TABLE.json [--seeds 20] [--first-seed 0] [--budgets 5,10,20] [--out OUT.json]
Prints a Markdown table (the same columns as the example's) and writes every seed's result.
"""

import argparse
import json
import logging
import math
import statistics
import time

import ConfigSpace as CS
import numpy as np
import optuna
from ConfigSpace.forbidden import ForbiddenEqualsRelation, ForbiddenGreaterThanRelation
from hpbandster.core.dispatcher import Job
from hpbandster.optimizers.config_generators.bohb import BOHB as BohbGenerator
from hpbandster.optimizers.iterations import SuccessiveHalving

ETA = 3
STALL = 200  # evaluations in a row answered from the cache that end a run (space exhausted)


class Exhausted(Exception):
    """The budget cannot pay for the next evaluation, or the space is exhausted."""


class Table:
    def __init__(self, path):
        with open(path) as f:
            t = json.load(f)
        self.params = t["params"]
        self.fidelities = t["fidelities"]
        self.costs = t["costs"]
        d = len(self.params)
        self.scores = {tuple(int(v) for v in row[:d]): row[d:] for row in t["rows"]}
        self.full = sorted(s[-1] for s in self.scores.values())
        self.optimum = self.full[-1]
        self.grid_cost = len(self.scores) * self.costs[-1]
        self.ranges = [
            (min(c[i] for c in self.scores), max(c[i] for c in self.scores)) for i in range(d)
        ]
        steps = []
        for i in range(d):
            values = sorted({c[i] for c in self.scores})
            steps.append(math.gcd(*[b - a for a, b in zip(values, values[1:])]) or 1)
        self.steps = steps

    def column(self, fidelity):
        for i, f in enumerate(self.fidelities):
            if abs(f - fidelity) <= 1e-9 * max(f, fidelity):
                return i
        raise KeyError(f"fidelity {fidelity} not in the table")

    def percentile(self, score):
        lo, hi = 0, len(self.full)
        while lo < hi:  # the share of configurations scoring at most `score`
            mid = (lo + hi) // 2
            if self.full[mid] <= score:
                lo = mid + 1
            else:
                hi = mid
        return lo / len(self.full)


class Ledger:
    """The cost rule: a budget, a cache of evaluations, the best full-fidelity score."""

    def __init__(self, table, limit):
        self.table, self.limit = table, limit
        self.spent, self.seen, self.best, self.trials, self.stalled = 0, set(), None, 0, 0

    def evaluate(self, config, column):
        score = self.table.scores[config][column]
        if score != score:  # NaN counts as worst
            score = -math.inf
        key = (config, column)
        if key not in self.seen:
            cost = self.table.costs[column]
            if self.spent + cost > self.limit:
                raise Exhausted
            self.spent += cost
            self.seen.add(key)
            self.stalled = 0
        else:
            self.stalled += 1
            if self.stalled >= STALL:
                raise Exhausted
        self.trials += 1
        if column == len(self.table.fidelities) - 1 and (self.best is None or score > self.best):
            self.best = score
        return score


def space(table, seed):
    """HpBandSter's configuration space: integer values, fast < slow forbidden — or, on an axis
    with a step, the value's index (the unit interval split as this project splits it), where
    fast < slow is not a relation ConfigSpace can state: a configuration outside it then scores
    worst at no cost, as a user of HpBandSter would return a failure."""
    cs = CS.ConfigurationSpace(seed=seed)
    if all(step == 1 for step in table.steps):
        hps = [CS.UniformIntegerHyperparameter(n, lo, hi) for n, (lo, hi) in zip(table.params, table.ranges)]
        cs.add(hps)
        cs.add(ForbiddenGreaterThanRelation(hps[0], hps[1]), ForbiddenEqualsRelation(hps[0], hps[1]))
    else:
        cs.add(
            [
                CS.UniformIntegerHyperparameter(n, 0, (hi - lo) // step)
                for n, (lo, hi), step in zip(table.params, table.ranges, table.steps)
            ]
        )
    return cs


def value_of(table, config):
    """A HpBandSter/Optuna configuration (values or indices) as the table's key."""
    out = []
    for name, (lo, _), step in zip(table.params, table.ranges, table.steps):
        v = int(config[name])
        out.append(v if all(s == 1 for s in table.steps) else lo + v * step)
    return tuple(out)


def hpbandster_bohb(table, limit, seed):
    np.random.seed(seed)
    generator = BohbGenerator(
        configspace=space(table, seed),
        min_points_in_model=None,
        top_n_percent=15,
        num_samples=64,
        random_fraction=1 / 3,
        bandwidth_factor=3,
        min_bandwidth=1e-3,
    )
    min_budget, max_budget = table.fidelities[0], table.fidelities[-1]
    max_sh_iter = -int(np.log(min_budget / max_budget) / np.log(ETA)) + 1
    budgets = max_budget * np.power(ETA, -np.linspace(max_sh_iter - 1, 0, max_sh_iter))

    def iteration(i):  # hpbandster.optimizers.BOHB.get_next_iteration
        s = max_sh_iter - 1 - (i % max_sh_iter)
        n0 = int(np.floor(max_sh_iter / (s + 1)) * ETA**s)
        ns = [max(int(n0 * (ETA ** (-k))), 1) for k in range(s + 1)]
        return SuccessiveHalving(
            HPB_iter=i, num_configs=ns, budgets=budgets[(-s - 1) :], config_sampler=generator.get_config
        )

    ledger, iterations = Ledger(table, limit), []
    try:
        while True:  # Master.run with one synchronous worker
            run = None
            for it in iterations:
                if not it.is_finished:
                    run = it.get_next_run()
                    if run is not None:
                        break
            if run is None:
                iterations.append(iteration(len(iterations)))
                continue
            config_id, config, budget = run
            job = Job(config_id, config=config, budget=budget)
            job.time_it("started")
            key = value_of(table, config)
            if key in table.scores:
                job.result = {"loss": -ledger.evaluate(key, table.column(budget)), "info": {}}
            else:  # outside the constraint (a stepped space): worst, at no cost
                job.result = {"loss": math.inf, "info": {}}
            job.time_it("finished")
            iterations[config_id[0]].register_result(job)
            generator.new_result(job)
    except Exhausted:
        pass
    return ledger


def optuna_tpe_hyperband(table, limit, seed):
    sampler = optuna.samplers.TPESampler(seed=seed)
    steps = [round(f / table.fidelities[0]) for f in table.fidelities]  # 1, 3, 9
    pruner = optuna.pruners.HyperbandPruner(min_resource=steps[0], max_resource=steps[-1], reduction_factor=ETA)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    ledger = Ledger(table, limit)

    def objective(trial):
        config = {
            name: trial.suggest_int(name, lo, hi, step=step)
            for name, (lo, hi), step in zip(table.params, table.ranges, table.steps)
        }
        key = tuple(config[name] for name in table.params)
        if key not in table.scores:
            raise optuna.TrialPruned()
        score = None
        try:
            for column, step in enumerate(steps):
                score = ledger.evaluate(key, column)
                trial.report(score, step)
                if column < len(steps) - 1 and trial.should_prune():
                    raise optuna.TrialPruned()
        except Exhausted:
            trial.study.stop()
            raise optuna.TrialPruned()
        return score

    study.optimize(objective, n_trials=None, catch=())
    return ledger


METHODS = {"hpbandster-bohb": hpbandster_bohb, "optuna-tpe-hyperband": optuna_tpe_hyperband}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("table")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0, help="run seeds FIRST.. (to split a table's seeds over processes)")
    ap.add_argument("--budgets", default="5,10,20", help="denominators of the grid's cost")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--out")
    args = ap.parse_args()
    logging.getLogger("hpbandster").setLevel(logging.ERROR)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    table = Table(args.table)
    print(f"{args.table}: {len(table.scores)} configurations, optimum {table.optimum:.4f}\n")
    print("| budget | method | share of optimum, median | worst | percentile, median | worst | median cost | median trials | median wall |")
    print("|---|---|---|---|---|---|---|---|---|")
    results = {"table": args.table, "configurations": len(table.scores), "optimum": table.optimum, "runs": []}
    for den in [int(x) for x in args.budgets.split(",")]:
        limit = table.grid_cost // den
        for method in args.methods.split(","):
            runs = []
            results["runs"].append({"budget_divisor": den, "method": method, "seeds": runs})
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                t0 = time.perf_counter()
                ledger = METHODS[method](table, limit, seed)
                wall = time.perf_counter() - t0
                best = ledger.best if ledger.best is not None else -math.inf
                runs.append(
                    {
                        "seed": seed,
                        "best": best,
                        "share": best / table.optimum,
                        "percentile": table.percentile(best),
                        "cost": ledger.spent,
                        "trials": ledger.trials,
                        "wall_seconds": wall,
                    }
                )
                if args.out:  # after every seed, so a long run keeps what it finished
                    with open(args.out, "w") as f:
                        json.dump(results, f, indent=1)
            med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
            print(
                f"| 1/{den} | {method} | {med('share'):.4f} | {min(r['share'] for r in runs):.4f} | "
                f"{med('percentile') * 100:.2f}% | {min(r['percentile'] for r in runs) * 100:.2f}% | "
                f"{med('cost'):.0f} | {med('trials'):.0f} | {med('wall_seconds'):.2f} s |",
                flush=True,
            )


if __name__ == "__main__":
    main()
