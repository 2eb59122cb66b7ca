//! The pinhole camera of lab photos: the homography from the token plane (token units, "mm",
//! x right, y down) to frame pixels for a pose with in-plane rotation, tilt and distance.
//!
//! The bench is the token plane extended (the token lies flat on it), so one homography maps
//! both, and its inverse takes each frame pixel back to the point of the bench or token it sees.

/// A projective map of the plane (row-major 3×3 matrix).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography(pub [[f64; 3]; 3]);

impl Homography {
    /// The image of (`x`, `y`).
    pub fn map(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.0;
        let w = m[2][0] * x + m[2][1] * y + m[2][2];
        (
            (m[0][0] * x + m[0][1] * y + m[0][2]) / w,
            (m[1][0] * x + m[1][1] * y + m[1][2]) / w,
        )
    }

    /// The inverse map, or `None` when the matrix is singular.
    pub fn inverse(&self) -> Option<Homography> {
        let m = &self.0;
        let cofactor = |r0: usize, r1: usize, c0: usize, c1: usize| {
            m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]
        };
        let adj = [
            [
                cofactor(1, 2, 1, 2),
                -cofactor(0, 2, 1, 2),
                cofactor(0, 1, 1, 2),
            ],
            [
                -cofactor(1, 2, 0, 2),
                cofactor(0, 2, 0, 2),
                -cofactor(0, 1, 0, 2),
            ],
            [
                cofactor(1, 2, 0, 1),
                -cofactor(0, 2, 0, 1),
                cofactor(0, 1, 0, 1),
            ],
        ];
        let det = m[0][0] * adj[0][0] + m[0][1] * adj[1][0] + m[0][2] * adj[2][0];
        if det.abs() < 1e-12 {
            return None;
        }
        Some(Homography(adj.map(|row| row.map(|v| v / det))))
    }
}

/// Where the camera sits relative to the token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CameraPose {
    /// Focal length in pixels.
    pub focal_px: f32,
    /// In-plane rotation of the token in degrees (positive turns it clockwise on screen).
    pub rotation_deg: f32,
    /// Tilt of the token about its horizontal axis in degrees (out of plane).
    pub tilt_x_deg: f32,
    /// Tilt of the token about its vertical axis in degrees (out of plane).
    pub tilt_y_deg: f32,
    /// Distance from the camera to the anchor point along the optical axis, in token units.
    pub distance: f32,
    /// The token-plane point (token units) the camera aims at the target pixel.
    pub anchor: (f32, f32),
    /// The frame pixel the anchor lands on.
    pub target_px: (f32, f32),
}

impl CameraPose {
    /// The homography from the token plane to the pixels of a `width`×`height` frame (pixel
    /// centres at half-integers, principal point in the frame's middle).
    pub fn homography(&self, width: u32, height: u32) -> Homography {
        let (sz, cz) = f64::from(self.rotation_deg).to_radians().sin_cos();
        let (sx, cx) = f64::from(self.tilt_x_deg).to_radians().sin_cos();
        let (sy, cy) = f64::from(self.tilt_y_deg).to_radians().sin_cos();
        let rz = [[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]];
        let rx = [[1.0, 0.0, 0.0], [0.0, cx, -sx], [0.0, sx, cx]];
        let ry = [[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]];
        let r = mul(&mul(&rz, &rx), &ry);
        let f = f64::from(self.focal_px);
        let (px, py) = (f64::from(width) / 2.0, f64::from(height) / 2.0);
        let z = f64::from(self.distance);
        let t = [
            (f64::from(self.target_px.0) - px) * z / f,
            (f64::from(self.target_px.1) - py) * z / f,
            z,
        ];
        let (au, av) = (f64::from(self.anchor.0), f64::from(self.anchor.1));
        // Camera coordinates of a token point: R·(u − au, v − av, 0) + t.
        let extrinsic = [
            [r[0][0], r[0][1], t[0] - au * r[0][0] - av * r[0][1]],
            [r[1][0], r[1][1], t[1] - au * r[1][0] - av * r[1][1]],
            [r[2][0], r[2][1], t[2] - au * r[2][0] - av * r[2][1]],
        ];
        let k = [[f, 0.0, px], [0.0, f, py], [0.0, 0.0, 1.0]];
        Homography(mul(&k, &extrinsic))
    }
}

fn mul(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut out = [[0.0; 3]; 3];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pose() -> CameraPose {
        CameraPose {
            focal_px: 900.0,
            rotation_deg: 12.0,
            tilt_x_deg: -9.0,
            tilt_y_deg: 14.0,
            distance: 200.0,
            anchor: (3.0, -20.0),
            target_px: (300.0, 200.0),
        }
    }

    #[test]
    fn anchor_lands_on_target() {
        let (x, y) = pose().homography(640, 480).map(3.0, -20.0);
        assert!(
            (x - 300.0).abs() < 1e-9 && (y - 200.0).abs() < 1e-9,
            "{x} {y}"
        );
    }

    #[test]
    fn inverse_undoes_the_map() {
        let h = pose().homography(640, 480);
        let g = h.inverse().unwrap();
        for (u, v) in [(0.0, 0.0), (-30.0, 40.0), (25.0, -35.0)] {
            let (x, y) = h.map(u, v);
            let (u2, v2) = g.map(x, y);
            assert!((u - u2).abs() < 1e-9 && (v - v2).abs() < 1e-9);
        }
    }

    #[test]
    fn rotation_turns_clockwise_and_tilt_foreshortens() {
        let flat = CameraPose {
            rotation_deg: 0.0,
            tilt_x_deg: 0.0,
            tilt_y_deg: 0.0,
            ..pose()
        };
        // Untilted: a pure scale f / distance.
        let h = flat.homography(640, 480);
        let (x, y) = h.map(13.0, -20.0);
        assert!((x - 345.0).abs() < 1e-9 && (y - 200.0).abs() < 1e-9);
        // Clockwise on screen (y down): a point right of the anchor moves down.
        let turned = CameraPose {
            rotation_deg: 10.0,
            ..flat
        };
        assert!(turned.homography(640, 480).map(13.0, -20.0).1 > 200.0);
        // Tilted about the vertical axis, the two sides of the token differ in size.
        let tilted = CameraPose {
            tilt_y_deg: 15.0,
            ..flat
        }
        .homography(640, 480);
        let height_at = |u| tilted.map(u, 0.0).1 - tilted.map(u, -40.0).1;
        assert!((height_at(-30.0) - height_at(30.0)).abs() > 1.0);
    }
}
