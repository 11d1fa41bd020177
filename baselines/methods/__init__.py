"""The compared methods (paper Table 1) and the ablations (Table 3), as configurations of one loop.

    from baselines.methods import METHODS, Budget, run_method
    record = run_method(METHODS["v2p"], scene, "runs/methods/push_left/v2p", Budget.cpu_small())
"""
from .config import ABLATIONS, METHODS, Budget, MethodConfig, method_config
from .run import run_method

__all__ = ["MethodConfig", "METHODS", "ABLATIONS", "method_config", "Budget", "run_method"]
