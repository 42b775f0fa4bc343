"""Hyperband's schedule as HpBandSter (0.7.4, the reference BOHB implementation) computes it:
every bracket's configuration counts and budgets for several (min budget, max budget, eta), from
HpBandSter's own `HyperBand.get_next_iteration`. Writes hpbandster_schedule.json beside this file;
`crates/bench-search/src/hyperband.rs` is tested against it.

    python3 -m venv /tmp/hp && /tmp/hp/bin/pip install hpbandster==0.7.4
    /tmp/hp/bin/python crates/bench-search/tests/reference/hpbandster_schedule.py

No nameserver is needed: the schedule is computed before any worker is contacted.
"""
import json, logging, threading

# The optimizer's dispatcher threads look for a nameserver that is not needed here: quiet them.
threading.excepthook = lambda args: None
logging.disable(logging.CRITICAL)
import ConfigSpace as CS
from hpbandster.optimizers.hyperband import HyperBand
cs = CS.ConfigurationSpace()
cs.add(CS.UniformIntegerHyperparameter("x", 0, 10))
out = []
for (mn, mx, eta) in [(1/9, 1.0, 3.0), (1/27, 1.0, 3.0), (1/81, 1.0, 3.0), (1/16, 1.0, 2.0), (1/8, 1.0, 2.0), (0.01, 1.0, 4.0)]:
    hb = HyperBand(configspace=cs, run_id="sched", min_budget=mn, max_budget=mx, eta=eta, nameserver="127.0.0.1", nameserver_port=1)
    brackets = []
    for it in range(hb.max_SH_iter):
        sh = hb.get_next_iteration(it)
        brackets.append({"configs": [int(n) for n in sh.num_configs], "budgets": [float(b) for b in sh.budgets]})
    out.append({"min_budget": mn, "max_budget": mx, "eta": eta, "brackets": brackets})
from pathlib import Path
Path(__file__).with_name("hpbandster_schedule.json").write_text(json.dumps(out, indent=1) + "\n")
