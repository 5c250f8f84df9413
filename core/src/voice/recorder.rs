//! Caly's own recording of the bot leg: two channels at the call's rate, the agent on the left
//! and the caller on the right (as Exotel's dual-channel WAV). The caller's audio arrives in
//! real time, so its length is the call's clock; agent audio is placed where it starts playing.
//! Bounded at an hour (Exotel's stream limit).

use crate::integrations::speech::audio::stereo_wav;

/// Longest recording kept.
const MAX_SECONDS: usize = 3600;

/// Both sides of a live call.
#[derive(Debug)]
pub struct Recorder {
    rate: u32,
    caller: Vec<i16>,
    agent: Vec<i16>,
    max_len: usize,
}

impl Recorder {
    /// An empty recording at `rate`.
    pub fn new(rate: u32) -> Self {
        Recorder {
            rate,
            caller: Vec::new(),
            agent: Vec::new(),
            max_len: rate as usize * MAX_SECONDS,
        }
    }

    /// Milliseconds recorded so far (the caller's clock).
    pub fn now_ms(&self) -> u64 {
        self.caller.len() as u64 * 1000 / u64::from(self.rate.max(1))
    }

    /// The caller's audio, as it arrives.
    pub fn caller(&mut self, samples: &[i16]) {
        let room = self.max_len.saturating_sub(self.caller.len());
        self.caller
            .extend_from_slice(&samples[..samples.len().min(room)]);
    }

    /// Agent audio that starts playing now (or after what is still playing).
    pub fn agent(&mut self, samples: &[i16]) {
        if self.agent.len() < self.caller.len() {
            self.agent.resize(self.caller.len(), 0);
        }
        let room = self.max_len.saturating_sub(self.agent.len());
        self.agent
            .extend_from_slice(&samples[..samples.len().min(room)]);
    }

    /// The caller barged in: agent audio not yet played is dropped from the recording too.
    pub fn cut_agent(&mut self) {
        self.agent.truncate(self.caller.len());
    }

    /// True when nothing was heard or said.
    pub fn is_empty(&self) -> bool {
        self.caller.is_empty() && self.agent.is_empty()
    }

    /// The recording as a stereo WAV (left: agent, right: caller).
    pub fn to_wav(&self) -> Vec<u8> {
        stereo_wav(&self.agent, &self.caller, self.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::speech::audio::read_wav;

    #[test]
    fn agent_audio_is_placed_on_the_callers_clock() {
        let mut rec = Recorder::new(8000);
        rec.caller(&[1; 800]);
        rec.agent(&[7; 400]);
        rec.caller(&[1; 800]);
        let wav = read_wav(&rec.to_wav()).unwrap();
        assert_eq!(wav.channels[1].len(), 1600);
        assert_eq!(wav.channels[0][799], 0);
        assert_eq!(wav.channels[0][800], 7);
        assert_eq!(wav.channels[0][1199], 7);
        assert_eq!(rec.now_ms(), 200);
        rec.agent(&[9; 8000]);
        rec.cut_agent();
        assert_eq!(read_wav(&rec.to_wav()).unwrap().channels[0].len(), 1600);
    }
}
