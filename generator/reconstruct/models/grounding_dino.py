"""Grounding DINO detection of named objects on frame 0 (paper Sec. 3.1, "Object Grounding").

The text prompt is the object names joined as ``"garlic. bowl."``. Each query's score for a
name is the largest sigmoid logit over that name's tokens; the name gets the box of its
best-scoring query when that score reaches ``box_threshold``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from generator.reconstruct.models.hub import load_pretrained
from generator.reconstruct.stages import Box, Detection

__all__ = ["GroundingDinoDetector", "name_token_spans"]

log = logging.getLogger(__name__)


def name_token_spans(input_ids: Sequence[int], name_ids: dict[str, list[int]]) -> dict[str, list[int]]:
    """Token positions of each name (its first occurrence) in the prompt's ``input_ids``."""
    ids = list(input_ids)
    spans = {}
    for name, pattern in name_ids.items():
        for i in range(len(ids) - len(pattern) + 1):
            if pattern and ids[i:i + len(pattern)] == pattern:
                spans[name] = list(range(i, i + len(pattern)))
                break
    return spans


@dataclass
class GroundingDinoDetector:
    model: Any
    processor: Any
    device: str = "cpu"
    box_threshold: float = 0.3

    @classmethod
    def load(cls, source: str | Path, cache_dir: Path | None = None, device: str = "cpu",
             box_threshold: float = 0.3) -> "GroundingDinoDetector":
        from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

        processor = load_pretrained(AutoProcessor, source, "Grounding DINO processor", "--detector-model", cache_dir)
        model = load_pretrained(AutoModelForZeroShotObjectDetection, source, "Grounding DINO detector",
                                "--detector-model", cache_dir)
        return cls(model.to(device).eval(), processor, device, box_threshold)

    def detect(self, frames: np.ndarray, names: Sequence[str]) -> Detection:
        import torch

        words = {n: n.replace("_", " ") for n in names}
        prompt = " ".join(f"{w}." for w in words.values())
        inputs = self.processor(images=frames[0], text=prompt, return_tensors="pt").to(self.device)
        with torch.no_grad():
            out = self.model(**inputs)
        tokenizer = self.processor.tokenizer
        name_ids = {n: tokenizer(w, add_special_tokens=False)["input_ids"] for n, w in words.items()}
        spans = name_token_spans(inputs["input_ids"][0].tolist(), name_ids)
        scores = out.logits[0].sigmoid()  # [queries, text tokens]
        boxes = out.pred_boxes[0]  # [queries, (cx, cy, w, h)] relative to the image size
        h, w = frames.shape[1:3]
        result = Detection({})
        for name in names:
            if name not in spans:
                result.misses[name] = f"the tokenizer split the prompt {prompt!r} so that '{words[name]}' is not in it"
                continue
            per_query = scores[:, spans[name]].max(dim=1).values
            q = int(per_query.argmax())
            score = float(per_query[q])
            if score < self.box_threshold:
                result.misses[name] = f"best Grounding DINO score {score:.2f} is below the threshold {self.box_threshold}"
                continue
            cx, cy, bw, bh = boxes[q].tolist()
            x0, x1 = (cx - bw / 2) * w, (cx + bw / 2) * w
            y0, y1 = (cy - bh / 2) * h, (cy + bh / 2) * h
            x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
            if x1 - x0 < 1 or y1 - y0 < 1:
                result.misses[name] = f"Grounding DINO's best box for it is empty inside the frame ({score:.2f})"
                continue
            result.boxes[name] = Box(x0, y0, x1, y1, score)
            log.info("Grounding DINO: '%s' at %s", name, result.boxes[name])
        return result
