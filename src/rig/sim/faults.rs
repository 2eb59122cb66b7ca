//! Device faults the simulated token can play (`otprig run --fault NAME`). They live only here:
//! fault names never reach perception or the runner, which must catch each from what they see.

use std::fmt;

/// A way the simulated token misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// One digit of the shown code is wrong.
    WrongDigit,
    /// The code of the first press is shown again in later time steps.
    StaleCode,
    /// The token's clock runs five time steps (150 s) ahead.
    ClockDrift,
    /// Auto-off comes 25 % late.
    AutoOffLate,
    /// Auto-off comes 30 % early.
    AutoOffEarly,
    /// The token never switches itself off.
    AutoOffNever,
    /// The token ignores the first press of the scenario although the contact closes.
    PressIgnored,
    /// Segment c of the first digit never lights.
    DeadSegment,
    /// The fourth digit spoken differs from the one shown.
    SpeechDiffers,
    /// The language chord does nothing.
    WrongLanguage,
    /// The volume chords do nothing.
    VolumeStuck,
    /// The speed chords do nothing.
    SpeedStuck,
    /// Speech starts two seconds late.
    SpeechLate,
    /// The serial number read aloud ends in a wrong digit.
    WrongSerial,
    /// The red button does not switch the token off while it speaks.
    RedIgnoredWhileSpeaking,
}

impl Fault {
    /// Every fault, in the order `otprig faults` lists them.
    pub const ALL: [Fault; 15] = [
        Fault::WrongDigit,
        Fault::StaleCode,
        Fault::ClockDrift,
        Fault::AutoOffLate,
        Fault::AutoOffEarly,
        Fault::AutoOffNever,
        Fault::PressIgnored,
        Fault::DeadSegment,
        Fault::SpeechDiffers,
        Fault::WrongLanguage,
        Fault::VolumeStuck,
        Fault::SpeedStuck,
        Fault::SpeechLate,
        Fault::WrongSerial,
        Fault::RedIgnoredWhileSpeaking,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Fault::WrongDigit => "wrong-digit",
            Fault::StaleCode => "stale-code",
            Fault::ClockDrift => "clock-drift",
            Fault::AutoOffLate => "auto-off-late",
            Fault::AutoOffEarly => "auto-off-early",
            Fault::AutoOffNever => "auto-off-never",
            Fault::PressIgnored => "press-ignored",
            Fault::DeadSegment => "dead-segment",
            Fault::SpeechDiffers => "speech-differs",
            Fault::WrongLanguage => "wrong-language",
            Fault::VolumeStuck => "volume-stuck",
            Fault::SpeedStuck => "speed-stuck",
            Fault::SpeechLate => "speech-late",
            Fault::WrongSerial => "wrong-serial",
            Fault::RedIgnoredWhileSpeaking => "red-ignored-while-speaking",
        }
    }

    /// What it does, in words.
    pub fn description(self) -> &'static str {
        match self {
            Fault::WrongDigit => "the third digit of every code shown is off by one",
            Fault::StaleCode => "the first code is shown again in later time steps",
            Fault::ClockDrift => "the token's clock runs 150 s (five steps) ahead",
            Fault::AutoOffLate => "auto-off comes 25 % late",
            Fault::AutoOffEarly => "auto-off comes 30 % early",
            Fault::AutoOffNever => "the token never switches itself off",
            Fault::PressIgnored => {
                "the first press of the scenario is ignored though the contact closes"
            }
            Fault::DeadSegment => "segment c of the first digit never lights",
            Fault::SpeechDiffers => "the fourth digit spoken differs from the one shown",
            Fault::WrongLanguage => "the language chord does nothing",
            Fault::VolumeStuck => "the volume chords do nothing",
            Fault::SpeedStuck => "the speed chords do nothing",
            Fault::SpeechLate => "speech starts two seconds late",
            Fault::WrongSerial => "the serial number read aloud ends in a wrong digit",
            Fault::RedIgnoredWhileSpeaking => {
                "the red button does not switch the token off while it speaks"
            }
        }
    }

    /// The fault with this name.
    pub fn parse(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for fault in Fault::ALL {
            assert_eq!(Fault::parse(fault.name()), Some(fault));
        }
        let mut names: Vec<_> = Fault::ALL.iter().map(|f| f.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Fault::ALL.len());
        assert_eq!(Fault::parse("no-such-fault"), None);
    }
}
