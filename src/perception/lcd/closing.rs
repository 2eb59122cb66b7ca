//! Closing: the light around each pixel of a window with its dark strokes filled in.
//!
//! Input: a rectified [`Patch`] and a square size larger than a stroke is wide. Output: per
//! pixel, the grey closing (dilation, then erosion, over the square): every dark feature narrower
//! than the square (a stroke) is filled with the light around it, and every light one (panel,
//! glare spot) keeps its own edge. The digits reader takes it as the most the panel can be at a
//! pixel, which a coarse block estimate overshoots around a glare spot.
//!
//! Both passes are separable running extremes (van Herk / Gil-Werman): three comparisons a pixel
//! whatever the square's size.

use super::rectify::Patch;

/// The grey closing of `patch` over a square of about `size` pixels, worked out at half
/// resolution (each 2×2 block's brightest pixel: a quarter of the work, and light edges move by
/// at most a pixel).
pub fn close_dark_strokes(patch: &Patch, size: usize) -> Vec<u8> {
    let (w, h) = (patch.width, patch.height);
    debug_assert_eq!(patch.pixels.len(), w * h);
    if w == 0 || h == 0 {
        return patch.pixels.clone();
    }
    let (half_w, half_h) = (w.div_ceil(2), h.div_ceil(2));
    let mut half = vec![0u8; half_w * half_h];
    for (y, row) in patch.pixels.chunks_exact(w).enumerate() {
        let out = &mut half[(y / 2) * half_w..(y / 2 + 1) * half_w];
        for (x, &p) in row.iter().enumerate() {
            out[x / 2] = out[x / 2].max(p);
        }
    }
    let half = close(half, half_w, half_h, size / 2);
    let mut full = Vec::with_capacity(w * h);
    for y in 0..h {
        let row = &half[(y / 2) * half_w..(y / 2 + 1) * half_w];
        full.extend((0..w).map(|x| row[x / 2]));
    }
    full
}

/// The grey closing of the `w`×`h` `image` over a square of `size` pixels (rounded up to odd).
fn close(mut image: Vec<u8>, w: usize, h: usize, size: usize) -> Vec<u8> {
    let reach = size / 2;
    let mut scratch = RunningExtreme::default();
    // Dilation (max, padded with black), then erosion (min, padded with white).
    square_extreme(&mut image, w, h, reach, &mut scratch, u8::max, 0);
    square_extreme(&mut image, w, h, reach, &mut scratch, u8::min, u8::MAX);
    image
}

/// Replaces each pixel of the `w`×`h` `image` by `extreme` over the square `reach` pixels
/// around it: rows, then columns.
fn square_extreme(
    image: &mut [u8],
    w: usize,
    h: usize,
    reach: usize,
    scratch: &mut RunningExtreme,
    extreme: impl Fn(u8, u8) -> u8 + Copy,
    pad: u8,
) {
    for row in image.chunks_exact_mut(w) {
        row.copy_from_slice(scratch.run(row, reach, extreme, pad));
    }
    let mut column = vec![0u8; h];
    for x in 0..w {
        for (y, c) in column.iter_mut().enumerate() {
            *c = image[y * w + x];
        }
        for (y, &c) in scratch.run(&column, reach, extreme, pad).iter().enumerate() {
            image[y * w + x] = c;
        }
    }
}

/// Scratch space for running extremes along a line, reused across lines.
#[derive(Debug, Default)]
struct RunningExtreme {
    forward: Vec<u8>,
    backward: Vec<u8>,
    out: Vec<u8>,
}

impl RunningExtreme {
    /// `out[i]` = `extreme` of `values[i - reach..=i + reach]`, with `pad` (the identity of
    /// `extreme`) beyond the ends.
    fn run(
        &mut self,
        values: &[u8],
        reach: usize,
        extreme: impl Fn(u8, u8) -> u8,
        pad: u8,
    ) -> &[u8] {
        let n = values.len();
        let size = 2 * reach + 1;
        let len = (n + 2 * reach).div_ceil(size) * size;
        // The padded line cut into blocks of `size`: running extremes from each block's start
        // (forward) and from its end (backward). A window of `size` spans at most two blocks.
        self.forward.clear();
        self.forward.resize(len, pad);
        self.forward[reach..reach + n].copy_from_slice(values);
        self.backward.clear();
        self.backward.extend_from_slice(&self.forward);
        for block in self.forward.chunks_exact_mut(size) {
            for i in 1..size {
                block[i] = extreme(block[i], block[i - 1]);
            }
        }
        for block in self.backward.chunks_exact_mut(size) {
            for i in (0..size - 1).rev() {
                block[i] = extreme(block[i], block[i + 1]);
            }
        }
        self.out.clear();
        self.out
            .extend((0..n).map(|i| extreme(self.backward[i], self.forward[i + size - 1])));
        &self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(width: usize, height: usize, pixels: Vec<u8>) -> Patch {
        Patch {
            width,
            height,
            pixels,
        }
    }

    #[test]
    fn running_extremes_match_the_plain_window() {
        let values: Vec<u8> = (0..37u32).map(|i| ((i * 97 + 13) % 251) as u8).collect();
        let mut scratch = RunningExtreme::default();
        for reach in [0, 1, 2, 5, 11, 40] {
            let max = scratch.run(&values, reach, u8::max, 0).to_vec();
            let min = scratch.run(&values, reach, u8::min, u8::MAX).to_vec();
            for i in 0..values.len() {
                let window = &values[i.saturating_sub(reach)..(i + reach + 1).min(values.len())];
                assert_eq!(
                    max[i],
                    *window.iter().max().expect("a window holds its centre"),
                    "max, reach {reach} at {i}"
                );
                assert_eq!(
                    min[i],
                    *window.iter().min().expect("a window holds its centre"),
                    "min, reach {reach} at {i}"
                );
            }
        }
    }

    /// A dark stroke narrower than the square vanishes into the panel; a glare spot keeps its
    /// level and its edge to within a pixel (no halo of light spreads around it).
    #[test]
    fn strokes_close_and_glare_keeps_its_edge() {
        let (w, h) = (60, 40);
        let mut pixels = vec![150u8; w * h];
        for y in 5..35 {
            for x in 10..16 {
                pixels[y * w + x] = 40; // a stroke 6 px wide
            }
        }
        for y in 15..25 {
            for x in 40..50 {
                pixels[y * w + x] = 250; // a glare spot
            }
        }
        let closed = close_dark_strokes(&patch(w, h, pixels), 13);
        for y in 5..35 {
            for x in 10..16 {
                assert_eq!(closed[y * w + x], 150, "stroke left at ({x}, {y})");
            }
        }
        for y in 0..h {
            for x in 30..60 {
                let inside = (15..25).contains(&y) && (40..50).contains(&x);
                let near = (14..26).contains(&y) && (39..51).contains(&x);
                match closed[y * w + x] {
                    250 => assert!(near, "light spread to ({x}, {y})"),
                    150 => assert!(!inside, "glare lost at ({x}, {y})"),
                    other => panic!("{other} at ({x}, {y})"),
                }
            }
        }
    }
}
