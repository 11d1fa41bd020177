"""Helper functions the template writer puts into task modules, by name, with those they call.

Each is plain source in the generated module's own style (vectorised torch over ``states``); the
writer includes a block's helpers, and the helpers they need (``HELPER_NEEDS``), once each.
"""
from __future__ import annotations

__all__ = ["HELPERS", "HELPER_NEEDS"]

HELPERS = {
    "up_z": '''def _up_z(quat):
    """World-z component of the object's local z axis (+1 upright, -1 upside down)."""
    return 1.0 - 2.0 * (quat[:, 1] ** 2 + quat[:, 2] ** 2)
''',
    "yaw": '''def _yaw(quat):
    """Heading of the object's x axis about world z."""
    w, x, y, z = quat.unbind(-1)
    return torch.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
''',
    "speed": '''def _speed(states, name):
    return torch.norm(states[name + "_vel_linear"], dim=-1)
''',
    "resting": '''def _resting(states, name, tol=0.01):
    """Flat on the table top (centre at half its height) and nearly still."""
    height = states[name + "_pos"][:, 2] - states["table_height"]
    flat = torch.abs(height - states[name + "_size"][:, 2] / 2) < tol
    on_table = (torch.abs(states[name + "_pos"][:, :2]) < 0.6).all(dim=-1)
    return flat & on_table & (_speed(states, name) < 0.05)
''',
    "upside_down_quat": '''def _upside_down_quat(yaw):
    """Rotated by ``yaw`` about world z, then turned upside down (w-first)."""
    zeros = torch.zeros_like(yaw)
    return torch.stack((zeros, torch.cos(yaw / 2), torch.sin(yaw / 2), zeros), dim=-1)
''',
    "to_local": '''def _to_local(quat, vec):
    """World vectors ``vec`` in the body frame of ``quat`` (w-first)."""
    w, q = quat[:, :1], quat[:, 1:]
    t = 2.0 * torch.cross(q, vec, dim=-1)
    return vec - w * t + torch.cross(q, t, dim=-1)
''',
    "finger_axis": '''def _finger_axis(quat):
    """World direction of the hand's finger-closing axis (its local +y; quat w-first)."""
    w, x, y, z = quat.unbind(-1)
    return torch.stack((2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)), dim=-1)
''',
    "approach_axis": '''def _approach_axis(quat):
    """World direction from the hand's wrist to its fingertips (its local +z; straight down at home)."""
    w, x, y, z = quat.unbind(-1)
    return torch.stack((2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)), dim=-1)
''',
    "extent_along": '''def _extent_along(states, name, direction, round_):
    """Half of ``name``'s table footprint along the unit xy ``direction``: where its side is."""
    half = states[name + "_size"][:, :2] / 2
    if round_:
        return half[:, 0]
    yaw = _yaw(states[name + "_quat"])
    c, s = torch.cos(yaw), torch.sin(yaw)
    return half[:, 0] * torch.abs(c * direction[0] + s * direction[1]) + half[:, 1] * torch.abs(
        -s * direction[0] + c * direction[1])
''',
    "grasp_yaw": '''def _grasp_yaw(states, name):
    """(sin 2d, cos 2d), d the yaw from the fingers' closing axis to ``name``'s narrow horizontal
    side: how far to turn the hand before closing (doubled: a half turn grasps the same)."""
    axis = _finger_axis(states["eef_quat"])
    size = states[name + "_size"]
    narrow = _yaw(states[name + "_quat"]) + (size[:, 0] > size[:, 1]).float() * (math.pi / 2)
    d = narrow - torch.atan2(axis[:, 1], axis[:, 0])
    return torch.stack((torch.sin(2.0 * d), torch.cos(2.0 * d)), dim=-1)
''',
    "grasp_alignment": '''def _grasp_alignment(states, name, round_):
    """cos 2d, d the yaw between the fingers' closing axis and ``name``'s narrow horizontal side
    (1 when aligned; doubled because a two-finger grasp is the same after a half turn); 1 for a
    round object, which any yaw grasps."""
    if round_:
        return torch.ones_like(states[name + "_pos"][:, 0])
    axis = _finger_axis(states["eef_quat"])
    size = states[name + "_size"]
    narrow = _yaw(states[name + "_quat"]) + (size[:, 0] > size[:, 1]).float() * (math.pi / 2)
    return torch.cos(2.0 * (torch.atan2(axis[:, 1], axis[:, 0]) - narrow))
''',
    "path_progress": '''def _path_progress(pos, start, end, path):
    """How far along the video's path the object has come, in [0, 1], counted only near the path.

    ``path``: K points of the tracked path relative to its first point, evenly spaced along it.
    The path is bent so that it starts where the object started this episode (``start``) and ends
    at ``end`` (where the video's path ended, placed in this episode); progress is the furthest
    point the object is near, so the video is followed by progress along it, not by the clock."""
    rel = torch.tensor(path, device=pos.device)
    along = torch.linspace(0.0, 1.0, rel.shape[0], device=pos.device)
    shift = end - start - rel[-1]
    points = start[:, None] + rel[None] + along[None, :, None] * shift[:, None]
    near = 1.0 - torch.tanh(torch.norm(points - pos[:, None], dim=-1) / 0.03)
    return (along[None] * near).max(dim=-1).values
''',
    "footprint": '''def _footprint_gap(states, a, b, b_round):
    """Gap between the table footprints of ``a`` (a rectangle) and ``b`` (a circle if
    ``b_round``, else a rectangle; separating-axis test); <= 0 when they overlap."""
    rel = states[b + "_pos"][:, :2] - states[a + "_pos"][:, :2]
    yaw_a = _yaw(states[a + "_quat"])
    half_a = states[a + "_size"][:, :2] / 2
    x_a = torch.stack((torch.cos(yaw_a), torch.sin(yaw_a)), dim=-1)
    y_a = torch.stack((-torch.sin(yaw_a), torch.cos(yaw_a)), dim=-1)
    if b_round:
        local = torch.stack(((rel * x_a).sum(-1), (rel * y_a).sum(-1)), dim=-1)
        outside = torch.clamp(torch.abs(local) - half_a, min=0.0)
        return torch.norm(outside, dim=-1) - states[b + "_size"][:, 0] / 2
    yaw_b = _yaw(states[b + "_quat"])
    half_b = states[b + "_size"][:, :2] / 2
    x_b = torch.stack((torch.cos(yaw_b), torch.sin(yaw_b)), dim=-1)
    y_b = torch.stack((-torch.sin(yaw_b), torch.cos(yaw_b)), dim=-1)
    gap = None
    for axis in (x_a, y_a, x_b, y_b):
        extent_a = half_a[:, 0] * torch.abs((x_a * axis).sum(-1)) + half_a[:, 1] * torch.abs((y_a * axis).sum(-1))
        extent_b = half_b[:, 0] * torch.abs((x_b * axis).sum(-1)) + half_b[:, 1] * torch.abs((y_b * axis).sum(-1))
        sep = torch.abs((rel * axis).sum(-1)) - extent_a - extent_b
        gap = sep if gap is None else torch.maximum(gap, sep)
    return gap
''',
    "within": '''def _within(states, obj, container, round_, wall):
    """``obj``'s centre inside ``container``'s inner footprint (its walls ``wall`` thick)."""
    rel = states[obj + "_pos"][:, :2] - states[container + "_pos"][:, :2]
    half = states[container + "_size"][:, :2] / 2 - wall
    if round_:
        return torch.norm(rel, dim=-1) < half[:, 0]
    yaw = _yaw(states[container + "_quat"])
    c, s = torch.cos(yaw), torch.sin(yaw)
    along, across = c * rel[:, 0] + s * rel[:, 1], -s * rel[:, 0] + c * rel[:, 1]
    return (torch.abs(along) < half[:, 0]) & (torch.abs(across) < half[:, 1])
''',
}
# helpers that other helpers call
HELPER_NEEDS = {"resting": ("speed",), "footprint": ("yaw",), "within": ("yaw",), "extent_along": ("yaw",),
                "grasp_alignment": ("finger_axis", "yaw"), "grasp_yaw": ("finger_axis", "yaw")}
