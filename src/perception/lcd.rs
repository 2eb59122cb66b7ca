//! Temporary stand-in for the LCD reader (lands from the lcd branch).
#![allow(missing_docs, clippy::all)]
use image::GrayImage;
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Region { pub x: u32, pub y: u32, pub width: u32, pub height: u32 }
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum LcdReading { Code(String), Blank, Unreadable(Unreadable) }
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Unreadable { NotFound, Blurred, OverExposed, InvalidPattern(String) }
impl Unreadable { pub fn is_token_fault(&self) -> bool { matches!(self, Unreadable::InvalidPattern(_)) } }
#[derive(Debug, Clone, serde::Serialize)]
pub struct DigitEvidence { pub position: usize, pub darkness: [f32; 7], pub mask: u8, pub digit: Option<u8> }
#[derive(Debug, Clone, serde::Serialize)]
pub struct LcdRead { pub reading: LcdReading, pub confidence: f32, pub digits: Vec<DigitEvidence>, pub sharpness: f32, pub contrast: f32 }
pub struct LcdReader { _r: Region }
impl LcdReader {
    pub fn new(region: Region, _digits: usize) -> Self { Self { _r: region } }
    pub fn read(&self, _image: &GrayImage) -> LcdRead { LcdRead { reading: LcdReading::Blank, confidence: 1.0, digits: vec![], sharpness: 0.0, contrast: 0.0 } }
}
