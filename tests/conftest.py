import os

os.environ.setdefault("MUJOCO_GL", "egl")


def pytest_configure(config):
    """Where this host cannot isolate untrusted code (no bubblewrap), the suite runs the trials and
    jobs it needs without the sandbox (the explicit opt-out); tests/test_sandbox.py skips then."""
    from v2p_envs.untrusted.sandbox import NO_SANDBOX_VARIABLE, isolation_problem

    problem = isolation_problem()
    if problem is not None:
        os.environ[NO_SANDBOX_VARIABLE] = "1"
        config.issue_config_time_warning(UserWarning(f"no sandbox on this host ({problem}): untrusted code in the "
                                                     f"tests runs without it"), stacklevel=2)
