"""Procedural meshes for scene objects: real-world-sized, watertight, simulation-ready."""
from generator.assets.everyday_objects import OBJECT_SIZES, make_object_mesh, write_object_mesh

__all__ = ["OBJECT_SIZES", "make_object_mesh", "write_object_mesh"]
