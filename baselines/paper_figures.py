"""Figures reported by the Video2Policy paper (Ye et al., 2025), for printing beside ours.

Table 1: ground-truth success, mean and std over 3 seeds, GPT-4o, Isaac Gym, the paper's budget
(5 reflection iterations x 8 reward samples; 8 iterations on the hard-motion tasks).
"""
from __future__ import annotations

__all__ = ["PAPER_TABLE1", "PAPER_METHOD_NAMES"]

PAPER_METHOD_NAMES = {"cop": "Code-as-Policy", "robogen": "RoboGen", "eureka": "Eureka", "v2p": "Video2Policy"}

#: task class name -> method -> (mean, std)
PAPER_TABLE1: dict[str, dict[str, tuple[float, float]]] = {
    "PushLeft": {"cop": (0.17, 0.13), "robogen": (0.93, 0.05), "eureka": (1.00, 0.00), "v2p": (1.00, 0.00)},
    "PushRight": {"cop": (0.75, 0.12), "robogen": (1.00, 0.00), "eureka": (1.00, 0.00), "v2p": (1.00, 0.00)},
    "LiftUp": {"cop": (0.33, 0.21), "robogen": (0.28, 0.09), "eureka": (0.83, 0.13), "v2p": (0.93, 0.05)},
    "TipOver": {"cop": (1.00, 0.00), "robogen": (0.97, 0.05), "eureka": (0.67, 0.47), "v2p": (1.00, 0.00)},
    "Cover": {"cop": (0.00, 0.00), "robogen": (0.00, 0.00), "eureka": (0.00, 0.00), "v2p": (0.07, 0.05)},
    "Uncover": {"cop": (0.10, 0.08), "robogen": (0.67, 0.26), "eureka": (0.63, 0.38), "v2p": (0.97, 0.05)},
    "PushWith": {"cop": (0.03, 0.05), "robogen": (0.03, 0.05), "eureka": (0.47, 0.38), "v2p": (0.43, 0.40)},
    "PushNextTo": {"cop": (0.80, 0.16), "robogen": (0.23, 0.05), "eureka": (0.83, 0.12), "v2p": (1.00, 0.00)},
    "DropInFrontOf": {"cop": (0.53, 0.31), "robogen": (0.37, 0.09), "eureka": (0.87, 0.17), "v2p": (0.93, 0.05)},
    "InsertFork": {"cop": (0.07, 0.05), "robogen": (0.27, 0.38), "eureka": (0.57, 0.40), "v2p": (0.93, 0.05)},
    "SlideRemoteToMouse": {"cop": (0.00, 0.00), "robogen": (0.53, 0.12), "eureka": (0.87, 0.05), "v2p": (0.97, 0.05)},
    "ThrowGarlic": {"cop": (0.00, 0.00), "robogen": (0.03, 0.05), "eureka": (0.37, 0.29), "v2p": (0.70, 0.36)},
}
