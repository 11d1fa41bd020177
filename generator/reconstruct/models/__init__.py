"""Real-model stage implementations: ``transformers`` models loaded from a hub id or a local
folder (Grounding DINO, SAM 2 video, DepthPro / Depth Anything metric), and external checkouts
run as subprocesses (InstantMesh, FoundationPose). Nothing here downloads unless the user lets
the hub do so; with ``HF_HUB_OFFLINE=1`` a missing model fails at once with a message."""
