"""RL training and evaluation: one trainer interface, adapters per library, the paper's protocol.

    from baselines.rl import TrainConfig, train, evaluate_checkpoints
    result = train(TrainConfig("V2P-PushLeft-v0", trainer="rl_games", num_envs=256, steps=2_000_000))
    record = evaluate_checkpoints([result.checkpoint], seeds=[0, 1, 2], episodes=10)

Trainers (``TRAINERS``): ``rl_games`` (the paper's, default), ``sb3``, ``skrl``; each adapter is
imported only when used. Checkpoints are read as weights only (``checkpoint.load_weights``).
``summarize_training_log`` turns a run's logs into reward-reflection statistics.
"""
from .checkpoint import CheckpointError, load_weights
from .config import TrainConfig, load_ppo_config, task_dir_of
from .evaluate import EvaluationRecord, evaluate_checkpoints, evaluate_policy
from .log_summary import TrainingSummary, format_summary, read_training_log, summarize_training_log
from .recorder import TrainingRecorder
from .run_record import RUN_FILE, RunFileError, RunInfo
from .trainer import (TRAINERS, Trainer, TrainingFailed, TrainResult, get_trainer, load_policy, make_env,
                      make_run_env, train)

__all__ = ["TrainConfig", "load_ppo_config", "task_dir_of", "EvaluationRecord", "evaluate_checkpoints",
           "evaluate_policy", "TrainingSummary", "format_summary", "read_training_log",
           "summarize_training_log", "TrainingRecorder",
           "TRAINERS", "Trainer", "TrainResult", "TrainingFailed", "get_trainer", "load_policy", "make_env",
           "make_run_env", "train", "RunInfo", "RunFileError", "RUN_FILE", "CheckpointError", "load_weights"]
