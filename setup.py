"""video2policy: internet videos -> simulated manipulation tasks -> robot policies."""
from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="video2policy",
    version="0.1.0",
    description="Video2Policy: turn RGB videos of manipulation into simulated tasks and policies",
    long_description=Path(__file__).with_name("README.md").read_text() if Path("README.md").exists() else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["v2p", "v2p.*", "v2p_envs*", "generator*", "baselines*", "benchmarks*",
                                    "leaderboard*"]),
    # Everything the code reads from inside the packages at run time ships in the wheel: the task
    # folders at any depth (meshes and their cached convex parts, ``<mesh>.collision/``, so an
    # installed env never runs CoACD into site-packages), the emitter's templates and prompts,
    # and the shipped test videos with their truth files. tests/test_packaging.py checks this.
    include_package_data=True,
    package_data={
        "v2p_envs": ["generated/**/*", "assets/**/*"],
        "generator": ["templates/*.yaml", "prompts/*.txt", "reconstruct/data/**/*"],
        "benchmarks": ["RESULTS.md", "records/*.json"],
        "leaderboard": ["entries/**/*"],
    },
    exclude_package_data={"": ["*.pyc", "*.pyo", "*/__pycache__/*"]},
    install_requires=[
        "torch>=2.3",  # install the CPU build first: pip install torch==2.13.0
        "numpy>=1.26",
        "gymnasium>=1.1",
        "mujoco>=3.3",
        "pybullet>=3.2.6",  # ships the Franka Panda URDF and meshes (Apache-2.0); no run-time download
        "trimesh>=4.0",
        "rtree>=1.0",  # trimesh's spatial index (mesh queries in reconstruction)
        "coacd>=1.0",
        "scipy>=1.11",
        "shapely>=2.1",  # constrained_delaunay_triangles (extruded outlines)
        "imageio[ffmpeg]>=2.34",
        "pyyaml>=6.0",
        "tqdm>=4.66",
        "rich>=13.0",
        "opencv-python-headless>=4.8",  # offline reconstruction (GrabCut, optical flow, PnP)
        "rl-games==1.6.5",  # the paper's PPO trainer, the default of `v2p train`
        "tensorboard>=2.15",
        "matplotlib>=3.8",  # learning-curve and benchmark plots (PNG)
        # leaderboard weights (policy.safetensors): every submission's policy loads them, and
        # `v2p submit export` writes them; a pickle-free format (a pickle could run code when loaded)
        "safetensors>=0.4",
        # the sandbox's seccomp filter (no fork, no exec) around untrusted code; with Debian's bubblewrap
        "pyseccomp>=0.1.2; sys_platform == 'linux'",
    ],
    extras_require={
        # Real-model adapters of the reconstruction stages (weights come from the user's path or hub).
        "models": ["transformers>=4.45", "huggingface_hub", "safetensors"],
        # The tests run the real-model adapters on tiny randomly initialised transformers models.
        # Plug-in RL libraries (thin adapters in baselines/rl/).
        "rl": ["stable-baselines3>=2.3", "skrl>=1.4"],
        # Task-code generation with any OpenAI-compatible endpoint (`v2p generate --backend openai`).
        "llm": ["openai>=1.40"],
        # Training jobs and sweeps on a Ray cluster (--ray-address).
        "ray": ["ray>=2.9"],
        "test": ["pytest>=8", "pytest-benchmark>=4", "transformers>=4.45", "safetensors",
                 "stable-baselines3>=2.3", "skrl>=1.4", "openai>=1.40", "h5py"],
        "gpu": ["mujoco-warp", "warp-lang"],
        # Behaviour cloning datasets (robomimic HDF5 layout) and checkpoints.
        "bc": ["h5py", "safetensors"],
    },
    entry_points={"console_scripts": ["v2p=v2p.cli:main"]},
)
