"""The scene model: layered "dead leaves" of textured, occluding shapes at random depths.

A scene is a background plus a few fronto-parallel layers, back to front. Each
layer is a premultiplied colour image and an alpha (coverage) image on a canvas
padded beyond the frame, so that blur near the frame border sees what lies just
outside it, as a real lens would. Shape sizes follow a power law (the
scale-invariance of natural images that the dead-leaves model reproduces).

Backgrounds come in three kinds, because in-focus/blurred layouts in real photos
are dominated by them: a fronto-parallel wall (a photo crop covered with more
leaves), and a receding ground plane seen in perspective (depth, hence blur,
varies continuously across it) below either a flat sky or a far wall. The plane
is described here and cut into depth bands by :mod:`.render`, once the camera
says how finely its blur varies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from .textures import flat_texture, photo_texture, random_texture

SKY_DEPTH_M = 1000.0


@dataclass
class Layer:
    """One fronto-parallel layer at ``depth`` metres: premultiplied linear RGB and coverage."""

    depth: float
    colour: np.ndarray  # (Hc, Wc, 3) float32, premultiplied by alpha
    alpha: np.ndarray  # (Hc, Wc) float32 in [0, 1]
    label: str = "object"


@dataclass
class Plane:
    """A receding plane: inverse depth is affine in image coordinates (``d = q / height``)."""

    texture: np.ndarray  # (Hc, Wc, 3) linear RGB, perspective-mapped
    q: np.ndarray  # (Hc, Wc) float32 signed distance from the vanishing line, pixels
    height: float  # pixel-metres: inverse depth at q is q / height
    q_far: float  # where the plane ends (its far edge); beyond it lies the far layer
    q_max: float  # the nearest q on the canvas


@dataclass
class Layout:
    size: int
    pad: int
    layers: list[Layer]  # back to front, plane excluded
    plane: Plane | None = None
    n_behind_plane: int = 0  # how many of ``layers`` lie behind the plane (the far layer)
    info: dict = field(default_factory=dict)


# ------------------------------------------------------------------------ shapes


def _power_law(rng: np.random.Generator, lo: float, hi: float, alpha: float = 2.6) -> float:
    """Radius with density ~ r^-alpha on [lo, hi] (inverse CDF)."""
    a = 1.0 - alpha
    u = rng.random()
    return float((lo**a + u * (hi**a - lo**a)) ** (1.0 / a))


#: How far (in radii) each kind of shape can reach from its centre: bounds the work per shape.
EXTENT = {"disk": 1.0, "ellipse": 1.0, "polygon": 1.0, "blob": 1.6}


def _shape_alpha(rng: np.random.Generator, kind: str, r: float, yy: np.ndarray, xx: np.ndarray):
    """Anti-aliased coverage of one shape centred at 0 in local coordinates; also a 0..1 radial coordinate."""
    theta0 = rng.uniform(0, 2 * np.pi)
    c, s = np.float32(np.cos(theta0)), np.float32(np.sin(theta0))
    u = c * xx + s * yy
    v = -s * xx + c * yy
    rho = np.hypot(u, v)
    if kind == "disk":
        R = r
        sd = R - rho
    elif kind == "ellipse":
        a, b = r, r * rng.uniform(0.35, 0.9)
        phi = np.arctan2(v, u)
        R = a * b / np.sqrt((b * np.cos(phi)) ** 2 + (a * np.sin(phi)) ** 2)
        sd = (R - rho) * (b / a) ** 0.5
    elif kind == "blob":
        phi = np.arctan2(v, u)
        R = np.full_like(rho, r)
        for k in range(2, 7):
            R += r * rng.normal(0, 0.28 / k) * np.cos(k * phi + rng.uniform(0, 2 * np.pi))
        R = np.maximum(R, 0.2 * r)
        sd = (R - rho) * 0.85
    else:  # convex polygon: intersection of half-planes (exact signed distance inside)
        n = int(rng.integers(3, 9))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        if rng.random() < 0.4:  # regular-ish (rectangles, hexagons: man-made objects)
            n = int(rng.choice([4, 4, 5, 6]))
            angles = np.arange(n) * 2 * np.pi / n + rng.normal(0, 0.05, n)
        aspect = rng.uniform(0.4, 1.0)
        px, py = r * np.cos(angles), r * aspect * np.sin(angles)
        sd = np.full_like(rho, np.inf)
        for i in range(n):
            x0, y0, x1, y1 = px[i], py[i], px[(i + 1) % n], py[(i + 1) % n]
            ex, ey = x1 - x0, y1 - y0
            ln = np.hypot(ex, ey) + 1e-9
            nx, ny = ey / ln, -ex / ln  # outward normal for counter-clockwise vertices
            sd = np.minimum(sd, -((u - x0) * nx + (v - y0) * ny))
        R = None
    alpha = np.clip(sd + 0.5, 0.0, 1.0).astype(np.float32)
    radial = np.clip(rho / (R if R is not None else r), 0, 1.5).astype(np.float32)
    return alpha, radial


SHAPE_KINDS = ("disk", "ellipse", "blob", "polygon")


def paint_shapes(
    rng: np.random.Generator,
    colour: np.ndarray,
    alpha: np.ndarray,
    n: int,
    r_lo: float,
    r_hi: float,
    region: tuple[float, float, float, float],
    p_flat: float = 0.04,
) -> None:
    """Composite ``n`` textured shapes (in place, premultiplied "over") into one layer."""
    hc, wc = alpha.shape
    y0, y1, x0, x1 = region
    for _ in range(n):
        r = _power_law(rng, r_lo, r_hi)
        cy, cx = rng.uniform(y0, y1), rng.uniform(x0, x1)
        kind = SHAPE_KINDS[int(rng.choice(4, p=(0.2, 0.25, 0.35, 0.2)))]
        ext = r * EXTENT[kind] + 2
        ya, yb = int(max(0, np.floor(cy - ext))), int(min(hc, np.ceil(cy + ext)))
        xa, xb = int(max(0, np.floor(cx - ext))), int(min(wc, np.ceil(cx + ext)))
        if yb - ya < 2 or xb - xa < 2:
            continue
        yy, xx = np.mgrid[ya:yb, xa:xb].astype(np.float32)
        a, radial = _shape_alpha(rng, kind, r, yy - cy, xx - cx)
        if not a.any():
            continue
        tex = random_texture(rng, yb - ya, xb - xa, p_flat=p_flat)
        # Gentle shading: light from one side and a darker rim give the shape some volume.
        la = rng.uniform(0, 2 * np.pi)
        g = np.float32(rng.uniform(0.0, 0.35) / max(r, 1.0))
        light = (
            1.0
            + (np.float32(np.cos(la)) * g) * (xx - np.float32(cx))
            + (np.float32(np.sin(la)) * g) * (yy - np.float32(cy))
        )
        rad2 = np.minimum(radial, 1.0) ** 2
        shade = np.clip(light, 0.5, 1.5) * (1.0 - np.float32(rng.uniform(0.0, 0.45)) * rad2 * rad2)
        tex *= shade[..., None]
        np.clip(tex, 0, 1, out=tex)
        sub_c = colour[ya:yb, xa:xb]
        sub_a = alpha[ya:yb, xa:xb]
        sub_c *= (1.0 - a)[..., None]
        sub_c += tex * a[..., None]
        sub_a *= 1.0 - a
        sub_a += a


# ------------------------------------------------------------------------ layouts


def _wall(rng: np.random.Generator, hc: int, wc: int, size: float, depth: float, label: str) -> Layer:
    """A fronto-parallel full-frame layer: a photo crop or flat fill, covered by many leaves."""
    if rng.random() < 0.1:
        base = flat_texture(rng, hc, wc)
        n_leaves = int(rng.integers(0, 6))
    else:
        base = photo_texture(rng, hc, wc)
        n_leaves = int(rng.integers(0, 16) * rng.random())
    colour = base.copy()
    alpha = np.ones((hc, wc), np.float32)
    paint_shapes(rng, colour, alpha, n_leaves, 0.05 * size, 0.35 * size, (0, hc, 0, wc))
    return Layer(depth=depth, colour=colour, alpha=alpha, label=label)


def _plane(rng: np.random.Generator, hc: int, wc: int, size: float, pad: int) -> tuple[Plane, float]:
    """A ground (or slanted wall) plane in perspective; returns it and its far depth."""
    ang = np.pi / 2 + (rng.normal(0, 0.12) if rng.random() < 0.75 else rng.uniform(-np.pi, np.pi))
    uy, ux = np.sin(ang), np.cos(ang)  # q grows along (ux, uy): towards the camera
    yy, xx = np.mgrid[0:hc, 0:wc].astype(np.float32)
    proj = ux * (xx - wc / 2) + uy * (yy - hc / 2)
    perp = -uy * (xx - wc / 2) + ux * (yy - hc / 2)
    pmax = float(proj.max())
    extent = size * (rng.uniform(0.35, 0.85) if rng.random() < 0.7 else rng.uniform(1.05, 1.3))
    ratio = rng.uniform(3.0, 8.0)  # far depth / near depth across the visible plane
    z_near = float(np.exp(rng.uniform(np.log(0.8), np.log(4.0))))
    q_max = extent / (1.0 - 1.0 / ratio)
    q = (proj - pmax + q_max).astype(np.float32)
    height = q_max * z_near
    q_far = q_max - extent
    z_far = height / q_far
    focal = q_max * rng.uniform(0.8, 1.2)
    # Texture coordinates in source pixels: distance along the ground, lateral offset.
    tau = q_max / z_near
    qc = np.maximum(q, q_far * 0.5)
    Z = height / qc
    a = Z * tau
    b = perp * Z / focal * tau
    # Sample a large photo crop on the plane (tiled with mirroring by map_coordinates).
    src = photo_texture(rng, 384, 384) if rng.random() < 0.85 else flat_texture(rng, 384, 384)
    a = a.max() - a + rng.uniform(0, 50)  # near edge of the plane at the bottom of the crop
    b = b + 192
    coords = np.stack([a, b])
    tex = np.empty((hc, wc, 3), np.float32)
    for ch in range(3):
        ndimage.map_coordinates(src[..., ch], coords, output=tex[..., ch], order=1, mode="mirror")
    # light falls off a little towards the far edge (aerial perspective)
    haze = np.clip((Z / z_near - 1.0) / (ratio - 1.0), 0, 1)[..., None] * rng.uniform(0.0, 0.25)
    tex = tex * (1 - haze) + haze * tex.mean()
    return Plane(texture=tex.astype(np.float32), q=q, height=height, q_far=q_far, q_max=float(q.max())), z_far


def build_layout(rng: np.random.Generator, size: int, pad: int) -> Layout:
    """Draw the geometry and textures of one scene (independent of the camera)."""
    hc = wc = size + 2 * pad
    layers: list[Layer] = []
    plane = None
    n_behind = 0
    info: dict = {}
    if rng.random() < 0.4:
        plane, z_far = _plane(rng, hc, wc, size, pad)
        info["background"] = "plane"
        if rng.random() < 0.55:
            sky = flat_texture(rng, hc, wc, sky=True)
            layers.append(Layer(SKY_DEPTH_M, sky, np.ones((hc, wc), np.float32), "sky"))
        else:
            layers.append(_wall(rng, hc, wc, size, z_far * rng.uniform(1.0, 1.5), "far"))
        n_behind = 1
        z_back = z_far
        z_front_ref = plane.height / plane.q_max
    else:
        z_back = float(np.exp(rng.uniform(np.log(1.5), np.log(40.0))))
        layers.append(_wall(rng, hc, wc, size, z_back, "wall"))
        info["background"] = "wall"
        z_front_ref = z_back
    # Object layers: inverse depths spread between the background and a near limit.
    n_obj = int(rng.choice([1, 2, 3, 4, 5], p=(0.15, 0.25, 0.25, 0.2, 0.15)))
    d_back = 1.0 / min(z_back, z_front_ref * 4)
    d_near = 1.0 / rng.uniform(0.3, 1.0)
    ds = np.sort(rng.uniform(d_back * 1.15, d_near, n_obj))  # far to near
    for d in ds:
        depth = float(1.0 / d)
        nearness = (d - d_back) / max(d_near - d_back, 1e-6)  # 0 far .. 1 near
        colour = np.zeros((hc, wc, 3), np.float32)
        alpha = np.zeros((hc, wc), np.float32)
        r_hi = size * (0.2 + 0.45 * nearness)
        r_lo = size * (0.05 + 0.08 * nearness)
        n = int(rng.integers(1, 3 + int(5 * (1 - nearness))))
        if rng.random() < 0.3:  # a cluster (a tree, a group of things) rather than scattered leaves
            cy, cx = rng.uniform(0.2, 0.8) * size + pad, rng.uniform(0.2, 0.8) * size + pad
            ext = size * rng.uniform(0.1, 0.3)
            region = (cy - ext, cy + ext, cx - ext, cx + ext)
            n += int(rng.integers(3, 10))
        else:
            m = -0.1 * size if nearness > 0.6 else 0.05 * size  # near objects may be cut by the frame
            region = (pad + m, pad + size - m, pad + m, pad + size - m)
        paint_shapes(rng, colour, alpha, n, r_lo, r_hi, region)
        layers.append(Layer(depth, colour, alpha, "object"))
    return Layout(size=size, pad=pad, layers=layers, plane=plane, n_behind_plane=n_behind, info=info)
