//! Temporary stand-in for the renderer (lands from the lcd branch).
#![allow(missing_docs, clippy::all)]
use image::GrayImage;
pub fn font_mask(digit: u8, seven_with_f: bool) -> u8 {
    const M: [u8; 10] = [0x3f, 0x06, 0x5b, 0x4f, 0x66, 0x6d, 0x7d, 0x07, 0x7f, 0x6f];
    let m = M[(digit % 10) as usize];
    if digit == 7 && seven_with_f { m | 0x20 } else { m }
}
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LcdContent { Off, On([u8; 6]) }
#[derive(Debug, Clone, Copy)]
pub struct Optics { pub blur: f32, pub noise: f32, pub tilt_deg: f32, pub light: f32, pub gradient: f32 }
pub struct SceneRenderer { w: u32, h: u32 }
impl SceneRenderer {
    pub fn new(width: u32, height: u32, _optics: Optics, _seed: u64) -> Self { Self { w: width, h: height } }
    pub fn render(&mut self, _content: &LcdContent) -> GrayImage { GrayImage::new(self.w, self.h) }
    pub fn lcd_digits_region(&self) -> (u32, u32, u32, u32) { (0, 0, 10, 10) }
}
